"""Billy's own published client, billy-client 0.0.8, driving Billy Edge unchanged.

Every method of the client's API is exercised the way a Billy user calls it. The client is Balanced's code (ported to
Python 3 mechanically by port.py); this file only calls it and checks what comes back. BILLY_URL names the server.
The test clock (a Billy Edge extension the client does not know) is moved with plain requests.
"""
import datetime
import os
import unittest

import requests

from billy_client import (BillyAPI, BillyError, Customer, DuplicateExternalIDError, Invoice, NotFoundError,
                          Plan, Subscription, Transaction)

URL = os.environ["BILLY_URL"]
CARD = "/v1/marketplaces/TEST-MP6lD3dBpta7OAXJsN766qA/cards/CCBXYdbpYDwX68hv69UH1eS"
PROCESSOR_KEY = "ef13dce2093b11e388de026ba7d31e6f"


def new_company():
    api = BillyAPI(None, endpoint=URL)
    company = api.create_company(processor_key=PROCESSOR_KEY)
    return api, company


def advance(api, company, to):
    resp = requests.post(URL + "/v1/companies/{}/clock".format(company.guid), data={"advance_to": to},
                         auth=(api.api_key, ""))
    resp.raise_for_status()


class TestBillyClient(unittest.TestCase):

    def setUp(self):
        self.api, self.company = new_company()

    def test_create_and_get_company(self):
        self.assertTrue(self.company.guid.startswith("CP"))
        self.assertEqual(self.api.api_key, self.company.api_key)
        got = self.api.get_company(self.company.guid)
        self.assertEqual(got.guid, self.company.guid)
        self.assertRaises(NotFoundError, self.api.get_company, "CPnotacompany")

    def test_wrong_key_is_refused(self):
        bad = BillyAPI(self.company.api_key[:-3] + "xyz", endpoint=URL)
        with self.assertRaises(BillyError) as caught:
            bad.get_company(self.company.guid)
        self.assertNotIsInstance(caught.exception, NotFoundError)
        self.assertEqual(caught.exception.args[1], 401)

    def test_customers_with_and_without_processor_uri(self):
        plain = self.company.create_customer()
        self.assertTrue(plain.guid.startswith("CU"))
        self.assertIsNone(plain.processor_uri)
        uri = "/v1/customers/CU4Jrs1gKGUUw3KxKkYvNJ4J"
        linked = self.company.create_customer(processor_uri=uri)
        self.assertEqual(linked.processor_uri, uri)
        self.assertEqual(self.api.get_customer(linked.guid).processor_uri, uri)
        found = list(self.api.list_customers(processor_uri=uri))
        self.assertEqual([c.guid for c in found], [linked.guid])
        self.assertIsInstance(found[0], Customer)
        self.assertRaises(NotFoundError, self.api.get_customer, "CUnosuchcustomer")

    def test_list_customers_across_several_pages(self):
        made = [self.company.create_customer().guid for _ in range(45)]
        listed = [c.guid for c in self.api.list_customers()]
        # Newest first, every customer exactly once over three pages of 20.
        self.assertEqual(listed, list(reversed(made)))

    def test_plans_and_subscribe_with_an_instrument(self):
        plan = self.company.create_plan(plan_type=Plan.TYPE_DEBIT, frequency=Plan.FREQ_DAILY, amount=7788)
        self.assertEqual((plan.plan_type, plan.frequency, plan.amount, plan.interval), ("debit", "daily", 7788, 1))
        self.assertEqual(self.api.get_plan(plan.guid).guid, plan.guid)
        self.assertEqual([p.guid for p in self.api.list_plans()], [plan.guid])
        customer = self.company.create_customer()
        sub = plan.subscribe(customer_guid=customer.guid, funding_instrument_uri=CARD,
                             appears_on_statement_as="hello baby")
        self.assertIsInstance(sub, Subscription)
        self.assertEqual((sub.customer_guid, sub.plan_guid, sub.funding_instrument_uri, sub.appears_on_statement_as),
                         (customer.guid, plan.guid, CARD, "hello baby"))
        self.assertEqual(self.api.get_subscription(sub.guid).guid, sub.guid)
        invoices = list(sub.list_invoices())
        self.assertEqual(len(invoices), 1)
        self.assertEqual((invoices[0].subscription_guid, invoices[0].status, invoices[0].amount),
                         (sub.guid, "settled", 7788))
        transactions = list(sub.list_transactions())
        self.assertEqual(len(transactions), 1)
        tx = transactions[0]
        self.assertIsInstance(tx, Transaction)
        self.assertEqual((tx.invoice_guid, tx.transaction_type, tx.submit_status, tx.status, tx.amount),
                         (invoices[0].guid, "debit", "done", "succeeded", 7788))
        self.assertEqual(self.api.get_transaction(tx.guid).guid, tx.guid)
        self.assertEqual([s.guid for s in self.api.list_subscriptions()], [sub.guid])

        # Cancel, then refund part of the settled invoice: the refund lists first, referencing the debit.
        canceled = sub.cancel()
        self.assertTrue(canceled.canceled)
        self.assertRaises(BillyError, sub.cancel)
        # (The client's get_* wrap every record as a Company, so resource methods are called on listed objects.)
        invoice = invoices[0]
        invoice.refund(amount=1234)
        transactions = list(canceled.list_transactions())
        self.assertEqual([t.transaction_type for t in transactions], ["refund", "debit"])
        self.assertEqual((transactions[0].amount, transactions[0].submit_status, transactions[0].reference_guid),
                         (1234, "done", tx.guid))
        self.assertEqual([t.guid for t in invoice.list_transactions()], [t.guid for t in transactions])
        with self.assertRaises(BillyError) as caught:
            invoice.refund(amount=7788)
        self.assertEqual(caught.exception.args[1], 400)

    def test_subscribe_in_the_future_with_a_naive_datetime(self):
        # Billy's clients send started_at.isoformat(): a naive datetime, no zone, which Billy read as UTC.
        requests.post(URL + "/v1/companies/{}/clock".format(self.company.guid),
                      data={"advance_to": "2030-01-01T00:00:00Z"}, auth=(self.api.api_key, ""))
        plan = self.company.create_plan(plan_type=Plan.TYPE_DEBIT, frequency=Plan.FREQ_MONTHLY, amount=500)
        customer = self.company.create_customer()
        start = datetime.datetime(2030, 1, 31, 10, 0, 0, 125000)
        sub = plan.subscribe(customer_guid=customer.guid, funding_instrument_uri=CARD, started_at=start,
                             amount=900)
        self.assertEqual(sub.started_at, "2030-01-31T10:00:00.125000+00:00")
        self.assertEqual((sub.invoice_count, sub.amount, sub.effective_amount), (0, 900, 900))
        self.assertEqual(list(sub.list_invoices()), [])
        advance(self.api, self.company, "2030-03-31T10:00:01Z")
        scheduled = [i.scheduled_at for i in sub.list_invoices()]
        self.assertEqual(scheduled, ["2030-03-31T10:00:00.125000+00:00", "2030-02-28T10:00:00.125000+00:00",
                                     "2030-01-31T10:00:00.125000+00:00"])
        with self.assertRaises(BillyError) as caught:
            plan.subscribe(customer_guid=customer.guid, started_at=datetime.datetime(2029, 1, 1))
        self.assertEqual(caught.exception.args[1], 400)

    def test_invoice_with_items_and_adjustments(self):
        customer = self.company.create_customer()
        invoice = customer.invoice(
            amount=1000,
            funding_instrument_uri=CARD,
            title="Hosting, March",
            external_id="march-2030",
            appears_on_statement_as="BILLY HOSTING",
            items=[dict(name="Hosting Service A", amount=1000, type="service", quantity=2, volume=3, unit="month"),
                   dict(name="Hosting Service B", amount=3000)],
            adjustments=[dict(amount=-100, reason="Coupon discount"), dict(amount=20, reason="Setup fee")],
        )
        self.assertIsInstance(invoice, Invoice)
        self.assertEqual((invoice.amount, invoice.total_adjustment_amount, invoice.effective_amount),
                         (1000, -80, 920))
        self.assertEqual([i["name"] for i in invoice.items], ["Hosting Service A", "Hosting Service B"])
        self.assertEqual(invoice.items[0], {"name": "Hosting Service A", "amount": 1000, "type": "service",
                                            "quantity": 2, "volume": 3, "unit": "month"})
        self.assertEqual(invoice.adjustments, [{"amount": -100, "reason": "Coupon discount"},
                                               {"amount": 20, "reason": "Setup fee"}])
        self.assertEqual((invoice.status, invoice.title, invoice.external_id), ("settled", "Hosting, March",
                                                                               "march-2030"))
        self.assertEqual(self.api.get_invoice(invoice.guid).effective_amount, 920)
        self.assertRaises(DuplicateExternalIDError, customer.invoice, amount=5, external_id="march-2030")
        # The same external_id under another customer is another invoice.
        other = self.company.create_customer().invoice(amount=5, external_id="march-2030")
        self.assertEqual(other.status, "staged")
        self.assertRaises(NotFoundError, self.api.get_invoice, "IVnosuchinvoice")

    def test_every_nested_list_and_its_filters(self):
        plan = self.company.create_plan(plan_type=Plan.TYPE_DEBIT, frequency=Plan.FREQ_WEEKLY, amount=600)
        other_plan = self.company.create_plan(plan_type=Plan.TYPE_DEBIT, frequency=Plan.FREQ_YEARLY, amount=700)
        alice = self.company.create_customer(processor_uri="/v1/customers/alice")
        bob = self.company.create_customer(processor_uri="/v1/customers/bob")
        sub_a = plan.subscribe(customer_guid=alice.guid, funding_instrument_uri=CARD)
        sub_b = other_plan.subscribe(customer_guid=bob.guid, funding_instrument_uri=CARD)
        one = alice.invoice(amount=100, external_id="one", funding_instrument_uri=CARD)
        two = alice.invoice(amount=200, external_id="two")
        bob.invoice(amount=300, external_id="one")

        guids = lambda page: [x.guid for x in page]
        self.assertEqual(guids(alice.list_subscriptions()), [sub_a.guid])
        alice_invoices = guids(alice.list_invoices())
        self.assertEqual(set(alice_invoices[:2]), {two.guid, one.guid})
        self.assertEqual(len(alice_invoices), 3)
        self.assertEqual(guids(alice.list_invoices(external_id="one")), [one.guid])
        self.assertEqual(guids(alice.list_invoices(external_id="nope")), [])
        self.assertEqual(len(guids(alice.list_transactions())), 2)
        self.assertEqual(guids(plan.list_customers()), [alice.guid])
        self.assertEqual(guids(other_plan.list_customers()), [bob.guid])
        self.assertEqual(guids(plan.list_subscriptions()), [sub_a.guid])
        plan_invoices = list(plan.list_invoices())
        self.assertEqual([i.subscription_guid for i in plan_invoices], [sub_a.guid])
        self.assertEqual(guids(plan.list_invoices(external_id="one")), [])
        self.assertEqual(len(guids(plan.list_transactions())), 1)
        self.assertEqual(guids(sub_b.list_invoices()), guids(other_plan.list_invoices()))
        self.assertEqual(len(guids(sub_b.list_transactions())), 1)
        self.assertEqual(len(guids(one.list_transactions())), 1)
        self.assertEqual(guids(self.api.list_invoices(external_id="one"))[::-1][0], one.guid)
        self.assertEqual(len(guids(self.api.list_invoices(external_id="one"))), 2)
        self.assertEqual(len(guids(self.api.list_invoices())), 5)
        self.assertEqual(len(guids(self.api.list_transactions())), 3)
        self.assertEqual(len(guids(self.api.list_subscriptions())), 2)
        self.assertEqual(guids(self.api.list_customers(processor_uri="/v1/customers/bob")), [bob.guid])

    def test_another_companys_objects_are_not_found(self):
        customer = self.company.create_customer()
        plan = self.company.create_plan(plan_type=Plan.TYPE_CREDIT, frequency=Plan.FREQ_MONTHLY, amount=100,
                                        interval=2)
        other_api, _ = new_company()
        self.assertRaises(NotFoundError, other_api.get_customer, customer.guid)
        self.assertRaises(NotFoundError, other_api.get_plan, plan.guid)
        self.assertRaises(NotFoundError, other_api.get_company, self.company.guid)


if __name__ == "__main__":
    unittest.main()
