//! Boundary tests: the exports called with real JS values, as the worker calls them (`wasm-pack test --node`).
#![cfg(target_arch = "wasm32")]

use billy_edge::boundary::*;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

fn n(v: f64) -> JsValue {
    JsValue::from_f64(v)
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &s(k), v).unwrap();
    }
    o.into()
}

fn arr(items: &[JsValue]) -> JsValue {
    items.iter().collect::<Array>().into()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &s(key)).unwrap()
}

fn get_str(v: &JsValue, key: &str) -> Option<String> {
    get(v, key).as_string()
}

fn get_num(v: &JsValue, key: &str) -> f64 {
    get(v, key)
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number"))
}

/// The thrown value is a real `Error` with these `code`, `status` and `field`.
fn assert_error<T: std::fmt::Debug>(
    result: Result<T, JsValue>,
    code: &str,
    status: u16,
    field: Option<&str>,
) -> String {
    let err = result.expect_err("expected a thrown error");
    assert!(
        err.is_instance_of::<js_sys::Error>(),
        "not an Error: {err:?}"
    );
    assert_eq!(get_str(&err, "code").as_deref(), Some(code));
    assert_eq!(get_num(&err, "status"), f64::from(status));
    let f = get(&err, "field");
    match field {
        Some(name) => assert_eq!(f.as_string().as_deref(), Some(name)),
        None => assert!(f.is_null(), "field should be null, got {f:?}"),
    }
    let message: String = err.unchecked_ref::<js_sys::Error>().message().into();
    assert!(!message.is_empty());
    message
}

#[wasm_bindgen_test]
fn guids_and_keys() {
    let now = n(1_764_633_600_000.0);
    let g = js_guid(s("CU"), now.clone()).unwrap();
    assert!(g.starts_with("CU") && g.len() == 24);
    let later = js_guid(s("CU"), n(1_764_633_600_001.0)).unwrap();
    assert!(
        g < later,
        "a guid made a millisecond later sorts later: {g} {later}"
    );
    assert_error(
        js_guid(s("cu"), now.clone()),
        "invalid_field",
        400,
        Some("prefix"),
    );
    assert_error(
        js_guid(n(1.0), now.clone()),
        "invalid_field",
        400,
        Some("prefix"),
    );
    assert_error(
        js_guid(s("CU"), s("soon")),
        "invalid_field",
        400,
        Some("now_ms"),
    );
    let company = js_guid(s("CP"), now).unwrap();
    let key = js_api_key(s(&company)).unwrap();
    assert_eq!(js_company_of_key(s(&key)).unwrap(), company);
    assert_error(
        js_company_of_key(s("garbage")),
        "invalid_api_key",
        401,
        None,
    );
    assert_error(
        js_company_of_key(JsValue::UNDEFINED),
        "invalid_api_key",
        401,
        None,
    );
}

#[wasm_bindgen_test]
fn currency_and_allocate() {
    let c = js_currency(s("jpy")).unwrap();
    assert_eq!(get_str(&c, "code").as_deref(), Some("JPY"));
    assert_eq!(get_num(&c, "exponent"), 0.0);
    assert_error(
        js_currency(s("XYZ")),
        "unknown_currency",
        400,
        Some("currency"),
    );
    let parts: Vec<f64> =
        Array::from(&js_allocate(n(100.0), arr(&[n(1.0), n(1.0), n(1.0)])).unwrap())
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
    assert_eq!(parts, vec![34.0, 33.0, 33.0]);
    assert_error(
        js_allocate(n(100.5), arr(&[n(1.0)])),
        "invalid_field",
        400,
        Some("total"),
    );
    assert_error(
        js_allocate(n(9007199254740992.0), arr(&[n(1.0)])),
        "amount_out_of_range",
        400,
        Some("total"),
    );
    // Numbers that are no amount are named as JS writes them, with any exponent written out: the core takes a JS
    // number's text from JS (a scalar) or from JSON.stringify (inside an array or object) and never formats a float.
    for (total, code, shown) in [
        (100.5, "invalid_field", "got 100.5"),
        (1.5e-7, "invalid_field", "got 0.00000015"),
        (f64::NAN, "invalid_field", "got NaN"),
        (f64::NEG_INFINITY, "invalid_field", "got -Infinity"),
        (
            1e21,
            "amount_out_of_range",
            "1000000000000000000000 is above",
        ),
    ] {
        let message = assert_error(
            js_allocate(n(total), arr(&[n(1.0)])),
            code,
            400,
            Some("total"),
        );
        assert!(message.contains(shown), "{total}: {message}");
    }
    let message = assert_error(
        js_allocate(n(10.0), arr(&[n(2.5e-7), n(1.0)])),
        "invalid_field",
        400,
        Some("weights[0]"),
    );
    assert!(message.contains("0.00000025"), "{message}");
    assert_error(
        js_allocate(n(1.0), arr(&[n(1.0), n(-1.0)])),
        "invalid_field",
        400,
        Some("weights[1]"),
    );
    assert_error(
        js_allocate(n(1.0), arr(&[])),
        "invalid_field",
        400,
        Some("weights"),
    );
    assert_error(
        js_allocate(n(1.0), s("1,2")),
        "invalid_field",
        400,
        Some("weights"),
    );
}

#[wasm_bindgen_test]
fn times() {
    assert_eq!(
        js_format_time(n(1391847730629.0)).unwrap(),
        "2014-02-08T08:22:10.629000+00:00"
    );
    assert_error(js_format_time(n(1.5)), "invalid_field", 400, Some("ms"));
    assert_eq!(
        js_parse_time(s("2014-02-08T13:52:10.629+05:30"), s("started_at")).unwrap(),
        "2014-02-08T08:22:10.629000+00:00"
    );
    let msg = assert_error(
        js_parse_time(s("yesterday"), s("started_at")),
        "invalid_time",
        400,
        Some("started_at"),
    );
    assert!(msg.contains("started_at"));
    assert_error(
        js_parse_time(n(5.0), s("clock")),
        "invalid_time",
        400,
        Some("clock"),
    );
    assert_eq!(
        js_time_millis(s("2014-02-08T08:22:10.629000+00:00")).unwrap(),
        1391847730629.0
    );
}

#[wasm_bindgen_test]
fn schedules() {
    let start = s("2024-01-31T09:30:00.000000+00:00");
    assert_eq!(
        js_period_at(start.clone(), s("MONTHLY"), n(1.0), n(1.0)).unwrap(),
        "2024-02-29T09:30:00.000000+00:00"
    );
    assert_error(
        js_period_at(start.clone(), s("hourly"), n(1.0), n(1.0)),
        "invalid_field",
        400,
        Some("frequency"),
    );
    assert_error(
        js_period_at(start.clone(), s("monthly"), n(0.0), n(1.0)),
        "invalid_field",
        400,
        Some("interval"),
    );
    assert_error(
        js_period_at(start.clone(), s("yearly"), n(1.0), n(8000.0)),
        "schedule_out_of_range",
        400,
        None,
    );
}

/// The batch exports write into an array the caller owns and say how many values they wrote; too small an array is a
/// 400 naming `out`, and nothing past the answer is touched.
#[wasm_bindgen_test]
fn batches_write_into_the_callers_array() {
    use js_sys::{Float64Array, Uint8Array};
    let start = s("2024-01-31T09:30:00.000000+00:00");
    let out = Float64Array::new_with_length(4);
    assert_eq!(
        js_periods_batch(&out, start.clone(), s("monthly"), n(1.0), n(1.0)).unwrap(),
        4
    );
    for k in 0..4 {
        let at = js_period_at(start.clone(), s("monthly"), n(1.0), n(f64::from(k + 1))).unwrap();
        assert_eq!(out.get_index(k), js_time_millis(s(&at)).unwrap());
    }
    // Past the year 9999 the answer ends early: 2024 + 7975 = 9999 is the last yearly period.
    let long = Float64Array::new_with_length(10);
    assert_eq!(
        js_periods_batch(&long, start.clone(), s("yearly"), n(1.0), n(7_970.0)).unwrap(),
        6
    );
    assert_eq!(long.get_index(6), 0.0);

    let out = Float64Array::new_with_length(3);
    out.fill(-1.0, 0, 3);
    let amounts = [100.0, 20.0];
    assert_eq!(js_totals_batch(&out, &amounts, &[-5.0, -10.0]).unwrap(), 2);
    assert_eq!(out.to_vec(), vec![85.0, 5.0, -1.0]);
    assert_error(
        js_totals_batch(&out, &[1.0, 2.0, 3.0, 4.0], &[]),
        "invalid_field",
        400,
        Some("out"),
    );
    assert_error(
        js_totals_batch(&out, &[1.0, 2.5], &[]),
        "invalid_field",
        400,
        Some("amounts[1]"),
    );

    let parts = Float64Array::new_with_length(6);
    assert_eq!(
        js_allocate_batch(&parts, &[100.0, -10.0], &[1.0, 1.0, 1.0]).unwrap(),
        6
    );
    assert_eq!(parts.to_vec(), vec![34.0, 33.0, 33.0, -4.0, -3.0, -3.0]);

    let flags = Uint8Array::new_with_length(2);
    assert_eq!(
        js_escrow_credits_batch(&flags, &[100.0, 100.0], &[100.0, 99.0]).unwrap(),
        2
    );
    assert_eq!(flags.to_vec(), vec![1, 0]);

    let checkouts = Float64Array::new_with_length(4);
    assert_eq!(
        js_allocate_checkouts_batch(&checkouts, &[10_000.0], &[-1_500.0], &[5_000.0], s("USD"))
            .unwrap(),
        4
    );
    let one = js_allocate_checkout(n(10_000.0), n(-1_500.0), n(5_000.0), s("USD")).unwrap();
    let fields = [
        "balance_applied",
        "terms_amount",
        "card_amount",
        "carried_to_balance",
    ];
    assert_eq!(
        checkouts.to_vec(),
        fields.map(|f| get_num(&one, f)).to_vec()
    );
}

#[wasm_bindgen_test]
fn companies_settings_clock_lists() {
    let c = js_validate_company(obj(&[])).unwrap();
    assert!(get(&c, "processor_key").is_null(), "null, never undefined");
    assert_eq!(get(&c, "test_mode").as_bool(), Some(true));
    let c = js_validate_company(JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&c, "test_mode").as_bool(), Some(true));
    assert_error(
        js_validate_company(obj(&[("test_mode", s("perhaps"))])),
        "invalid_field",
        400,
        Some("test_mode"),
    );
    assert!(get(
        &js_validate_settings(obj(&[])).unwrap(),
        "max_retry_attempts"
    )
    .is_null());
    assert_error(
        js_validate_settings(obj(&[("max_retry_attempts", n(51.0))])),
        "invalid_field",
        400,
        Some("max_retry_attempts"),
    );
    let now = s("2024-01-01T00:00:00.000000+00:00");
    let c = js_validate_clock(obj(&[("advance_to", s("2024-02-01"))]), now.clone()).unwrap();
    assert_eq!(
        get_str(&c, "advance_to").as_deref(),
        Some("2024-02-01T00:00:00.000000+00:00")
    );
    assert_error(
        js_validate_clock(obj(&[("advance_to", s("2023-01-01"))]), now),
        "clock_backwards",
        400,
        Some("advance_to"),
    );
    let p = js_validate_list_params(obj(&[("limit", s("5"))])).unwrap();
    assert_eq!((get_num(&p, "offset"), get_num(&p, "limit")), (0.0, 5.0));
    for (field, bad) in [
        ("offset", "abc"),
        ("offset", "-1"),
        ("limit", "0"),
        ("limit", "101"),
        ("limit", "1.5"),
    ] {
        assert_error(
            js_validate_list_params(obj(&[(field, s(bad))])),
            "invalid_field",
            400,
            Some(field),
        );
    }
}

#[wasm_bindgen_test]
fn plans_customers_subscriptions() {
    let p = js_validate_plan(obj(&[
        ("plan_type", s("DEBIT")),
        ("frequency", s("Monthly")),
        ("amount", n(500.0)),
    ]))
    .unwrap();
    assert_eq!(get_str(&p, "plan_type").as_deref(), Some("debit"));
    assert_eq!(get_str(&p, "frequency").as_deref(), Some("monthly"));
    assert_eq!(
        (get_num(&p, "amount"), get_num(&p, "interval")),
        (500.0, 1.0)
    );
    let plan = |amount: JsValue| {
        js_validate_plan(obj(&[
            ("plan_type", s("debit")),
            ("frequency", s("daily")),
            ("amount", amount),
        ]))
    };
    assert_error(plan(n(5.5)), "invalid_field", 400, Some("amount"));
    assert_error(plan(s("5.00")), "invalid_field", 400, Some("amount"));
    assert_error(plan(JsValue::TRUE), "invalid_field", 400, Some("amount"));
    assert_error(plan(n(49.0)), "amount_out_of_range", 400, Some("amount"));
    assert_error(plan(n(1e300)), "amount_out_of_range", 400, Some("amount"));
    assert_error(
        plan(JsValue::bigint_from_str("500")),
        "invalid_field",
        400,
        Some("amount"),
    );
    assert_error(plan(JsValue::NULL), "missing_field", 400, Some("amount"));
    assert_error(
        js_validate_plan(s("plan")),
        "invalid_field",
        400,
        Some("input"),
    );

    assert!(get(&js_validate_customer(obj(&[])).unwrap(), "processor_uri").is_null());

    let now = s("2024-05-01T12:00:00.000000+00:00");
    let sub = js_validate_subscription(
        obj(&[("plan_guid", s("PL1")), ("customer_guid", s("CU1"))]),
        now.clone(),
    )
    .unwrap();
    assert_eq!(
        get_str(&sub, "started_at").as_deref(),
        Some("2024-05-01T12:00:00.000000+00:00")
    );
    assert!(get(&sub, "amount").is_null() && get(&sub, "appears_on_statement_as").is_null());
    let past = obj(&[
        ("plan_guid", s("PL1")),
        ("customer_guid", s("CU1")),
        ("started_at", s("2024-04-30")),
    ]);
    assert_error(
        js_validate_subscription(past, now.clone()),
        "started_in_past",
        400,
        Some("started_at"),
    );
    let star = obj(&[
        ("plan_guid", s("PL1")),
        ("customer_guid", s("CU1")),
        ("appears_on_statement_as", s("A*B")),
    ]);
    assert_error(
        js_validate_subscription(star, now),
        "invalid_field",
        400,
        Some("appears_on_statement_as"),
    );
    assert_eq!(
        js_subscription_amount(JsValue::NULL, n(500.0)).unwrap(),
        500.0
    );
    assert_eq!(js_subscription_amount(n(700.0), n(500.0)).unwrap(), 700.0);
}

#[wasm_bindgen_test]
fn invoices() {
    let inv = js_validate_invoice(obj(&[
        ("customer_guid", s("CU1")),
        ("amount", s("1000")),
        ("item_name2", s("Two")),
        ("item_amount2", s("200")),
        ("item_name1", s("One")),
        ("item_amount1", s("100")),
        ("adjustments_amount1", s("-100")),
        ("adjustments_reason1", s("loyalty")),
    ]))
    .unwrap();
    assert_eq!(get_num(&inv, "effective_amount"), 900.0);
    assert_eq!(get_num(&inv, "total_adjustment_amount"), -100.0);
    let items = Array::from(&get(&inv, "items"));
    assert_eq!(items.length(), 2);
    assert_eq!(get_str(&items.get(0), "name").as_deref(), Some("One"));
    assert!(get(&items.get(0), "type").is_null() && get(&items.get(0), "quantity").is_null());
    assert!(get(&inv, "title").is_null());

    let json = obj(&[
        ("customer_guid", s("CU1")),
        ("amount", n(1000.0)),
        (
            "items",
            arr(&[
                obj(&[("name", s("A")), ("amount", n(1.0))]),
                obj(&[("name", s("B")), ("amount", n(1.5))]),
            ]),
        ),
    ]);
    assert_error(
        js_validate_invoice(json),
        "invalid_field",
        400,
        Some("items[1].amount"),
    );
    let neg = obj(&[
        ("customer_guid", s("CU1")),
        ("amount", n(100.0)),
        ("adjustment_amount1", s("-101")),
    ]);
    assert_error(
        js_validate_invoice(neg),
        "negative_effective_amount",
        400,
        Some("adjustments"),
    );

    let totals = js_invoice_totals(
        n(500.0),
        arr(&[obj(&[("amount", n(-200.0)), ("reason", JsValue::NULL)])]),
    )
    .unwrap();
    assert_eq!(
        (
            get_num(&totals, "total_adjustment_amount"),
            get_num(&totals, "effective_amount")
        ),
        (-200.0, 300.0)
    );
    assert_eq!(
        get_num(
            &js_invoice_totals(n(500.0), arr(&[])).unwrap(),
            "effective_amount"
        ),
        500.0
    );

    assert_error(
        js_validate_funding_instrument(obj(&[])),
        "missing_field",
        400,
        Some("funding_instrument_uri"),
    );

    assert_eq!(
        js_invoice_transition(s("staged"), s("submit")).unwrap(),
        "processing"
    );
    let msg = assert_error(
        js_invoice_transition(s("settled"), s("cancel")),
        "invalid_state",
        409,
        None,
    );
    assert_eq!(msg, "cannot cancel an invoice that is settled");
    assert_eq!(
        js_invoice_after_payment(s("processing"), s("succeeded")).unwrap(),
        "settled"
    );
    assert_eq!(
        js_invoice_after_payment(s("canceled"), s("succeeded")).unwrap(),
        "canceled"
    );
    assert_error(
        js_invoice_after_payment(s("processing"), s("Succeeded")),
        "invalid_field",
        400,
        Some("effect"),
    );
}

fn tx_row(guid: &str, kind: &str, amount: f64, submit: &str, status: JsValue) -> JsValue {
    obj(&[
        ("guid", s(guid)),
        ("transaction_type", s(kind)),
        ("amount", n(amount)),
        ("submit_status", s(submit)),
        ("status", status),
        ("failure_count", n(0.0)),
        ("unwanted", n(0.0)),
        ("next_attempt_at", JsValue::NULL),
        ("reconcile_at", JsValue::NULL),
        ("processor_uri", JsValue::NULL),
        ("funding_instrument_uri", s("/v1/cards/1")),
    ])
}

#[wasm_bindgen_test]
fn refunds() {
    let invoice = |status: &str| {
        obj(&[
            ("status", s(status)),
            ("transaction_type", s("debit")),
            ("effective_amount", n(900.0)),
        ])
    };
    let txs = arr(&[
        tx_row("TX1", "debit", 900.0, "done", s("succeeded")),
        tx_row("TX2", "refund", 500.0, "staged", JsValue::NULL),
    ]);
    let r = js_plan_refund(
        obj(&[("amount", s("400"))]),
        invoice("settled"),
        txs.clone(),
    )
    .unwrap();
    assert_eq!(get_num(&r, "amount"), 400.0);
    assert_eq!(get_str(&r, "reference_guid").as_deref(), Some("TX1"));
    assert_eq!(get_str(&r, "transaction_type").as_deref(), Some("refund"));
    let msg = assert_error(
        js_plan_refund(
            obj(&[("amount", n(600.0))]),
            invoice("settled"),
            txs.clone(),
        ),
        "refund_exceeds_amount",
        400,
        Some("amount"),
    );
    assert_eq!(msg, "refund of 600 would bring refunds to 1100, above the invoice's effective amount 900 (already refunded 500)");
    assert_error(
        js_plan_refund(obj(&[("amount", n(1.0))]), invoice("processing"), txs),
        "invalid_state",
        409,
        None,
    );
    assert_error(
        js_plan_refund(
            obj(&[("amount", n(1.0))]),
            invoice("settled"),
            arr(&[s("x")]),
        ),
        "invalid_field",
        400,
        Some("transactions[0]"),
    );
}

#[wasm_bindgen_test]
fn transaction_lifecycle() {
    let now = s("2024-03-10T10:00:00.000000+00:00");
    let staged = js_staged_transaction(now.clone()).unwrap();
    assert_eq!(get_str(&staged, "submit_status").as_deref(), Some("staged"));
    let row = tx_row("TX1", "debit", 900.0, "staged", JsValue::NULL);
    let error = obj(&[("outcome", s("error")), ("error_code", s("x"))]);
    let step = js_apply_answer(row.clone(), error.clone(), now.clone(), n(4.0)).unwrap();
    assert_eq!(get_str(&step, "effect").as_deref(), Some("recorded"));
    let changes = get(&step, "changes");
    assert_eq!(
        get_str(&changes, "submit_status").as_deref(),
        Some("retrying")
    );
    assert_eq!(
        get_str(&changes, "next_attempt_at").as_deref(),
        Some("2024-03-10T11:00:00.000000+00:00")
    );
    assert_eq!(
        get_str(&get(&step, "failure"), "error_code").as_deref(),
        Some("x")
    );
    assert!(get(&step, "compensation").is_null());
    // Default attempts when the company gives none.
    assert!(js_apply_answer(row.clone(), error, now.clone(), JsValue::NULL).is_ok());
    let ok = js_apply_answer(
        row.clone(),
        obj(&[("outcome", s("succeeded"))]),
        now.clone(),
        n(4.0),
    )
    .unwrap();
    assert_eq!(get_str(&ok, "effect").as_deref(), Some("succeeded"));
    // A canceled charge that succeeds anyway is repaid.
    let canceled = tx_row("TX2", "debit", 900.0, "canceled", JsValue::NULL);
    let late = js_apply_answer(
        canceled.clone(),
        obj(&[("outcome", s("succeeded"))]),
        now.clone(),
        n(4.0),
    )
    .unwrap();
    assert_eq!(get_str(&late, "effect").as_deref(), Some("refund_required"));
    let comp = get(&late, "compensation");
    assert_eq!(
        get_str(&comp, "transaction_type").as_deref(),
        Some("refund")
    );
    assert_eq!(get_num(&comp, "amount"), 900.0);
    assert_eq!(get_str(&comp, "reason").as_deref(), Some("late_success"));
    // A broken processor answer is an error, never a guess.
    assert_error(
        js_apply_answer(
            row.clone(),
            obj(&[("outcome", s("maybe"))]),
            now.clone(),
            n(4.0),
        ),
        "invalid_field",
        400,
        Some("answer.outcome"),
    );
    assert!(js_needs_lookup(row.clone()).unwrap());
    let released = js_release_transaction(row, JsValue::FALSE, now.clone()).unwrap();
    assert_eq!(
        get_str(&released, "submit_status").as_deref(),
        Some("canceled")
    );
    assert_eq!(get_str(&released, "reconcile_at"), now.as_string());
    assert!(
        js_release_transaction(canceled.clone(), JsValue::TRUE, now.clone())
            .unwrap()
            .is_null()
    );
    let rec =
        js_reconcile_answer(canceled, obj(&[("outcome", s("not_found"))]), now, n(4.0)).unwrap();
    assert_eq!(get_str(&rec, "effect").as_deref(), Some("recorded"));
}

#[wasm_bindgen_test]
fn names_and_defaults() {
    let names = js_names().unwrap();
    let submit = get(&names, "SubmitStatus");
    assert_eq!(get_str(&submit, "retrying").as_deref(), Some("retrying"));
    assert_eq!(
        get_str(&get(&names, "InvoiceStatus"), "settled").as_deref(),
        Some("settled")
    );
    assert!(get(&submit, "bogus").is_undefined());
    let d = js_defaults().unwrap();
    assert_eq!(get_num(&d, "max_retry_attempts"), 10.0);
    assert_eq!(get_num(&d, "key_overlap_seconds"), 86_400.0);
}

#[wasm_bindgen_test]
fn keys() {
    let now = s("2024-01-01T00:00:00.000000+00:00");
    let r = js_validate_rotation(obj(&[("expires_in", s("3600"))]), now.clone()).unwrap();
    assert_eq!(
        get_str(&r, "expires_at").as_deref(),
        Some("2024-01-01T01:00:00.000000+00:00")
    );
    assert_error(
        js_validate_rotation(obj(&[("expires_in", s("604801"))]), now.clone()),
        "invalid_field",
        400,
        Some("expires_in"),
    );
    let row = obj(&[
        ("expires_at", s("2024-01-01T00:00:00.000000+00:00")),
        ("revoked_at", JsValue::NULL),
    ]);
    assert_eq!(js_key_status(row, now.clone()).unwrap(), "expired");
    assert!(js_key_allows(
        s("restricted"),
        arr(&[s("checkout:CH1")]),
        s("checkout:CH1")
    )
    .unwrap());
    assert!(!js_key_allows(s("restricted"), arr(&[s("checkout:CH1")]), JsValue::NULL).unwrap());
    assert_eq!(js_key_hint(s("CPx_abcdef")).unwrap(), "…cdef");
    assert_eq!(
        js_token_expiry(now, n(60.0), n(3600.0)).unwrap(),
        "2024-01-01T00:01:00.000000+00:00"
    );
}

#[wasm_bindgen_test]
fn hostile_inputs_never_poison_the_instance() {
    // Deep nesting, odd types and huge numbers are refused as errors; the instance keeps working afterwards.
    let mut deep = obj(&[]);
    for _ in 0..100 {
        deep = arr(&[deep]);
    }
    assert_error(
        js_validate_invoice(obj(&[
            ("customer_guid", s("CU1")),
            ("amount", n(1.0)),
            ("items", deep),
        ])),
        "invalid_field",
        400,
        Some("items[0]"),
    );
    let f = js_sys::Function::new_no_args("return 1");
    // A function inside an object is dropped by JSON.stringify: the field reads as absent (a 400 naming it).
    assert_error(
        js_validate_plan(obj(&[("plan_type", f.into())])),
        "missing_field",
        400,
        Some("plan_type"),
    );
    assert_error(
        js_format_time(n(f64::NAN)),
        "invalid_field",
        400,
        Some("ms"),
    );
    assert_error(js_format_time(n(1e20)), "invalid_field", 400, Some("ms"));
    assert_error(
        js_allocate(n(f64::INFINITY), arr(&[n(1.0)])),
        "invalid_field",
        400,
        Some("total"),
    );
    assert!(js_guid(s("IV"), n(0.0)).is_ok());
}

#[wasm_bindgen_test]
fn invoice_opening() {
    let o = js_invoice_opening(n(900.0), s("/v1/cards/x")).unwrap();
    assert_eq!(get_str(&o, "status").as_deref(), Some("processing"));
    assert_eq!(get(&o, "charge").as_bool(), Some(true));
    let o = js_invoice_opening(n(900.0), JsValue::NULL).unwrap();
    assert_eq!(get_str(&o, "status").as_deref(), Some("staged"));
    assert_eq!(get(&o, "charge").as_bool(), Some(false));
    let o = js_invoice_opening(n(0.0), s("/v1/cards/x")).unwrap();
    assert_eq!(get_str(&o, "status").as_deref(), Some("settled"));
    assert_eq!(get(&o, "charge").as_bool(), Some(false));
    assert_error(
        js_invoice_opening(n(-5.0), JsValue::NULL),
        "amount_out_of_range",
        400,
        Some("effective_amount"),
    );
}

#[wasm_bindgen_test]
fn net_terms_exports() {
    let a = js_allocate_checkout(n(10_000.0), n(-1_500.0), n(5_000.0), s("USD")).unwrap();
    assert_eq!(get_num(&a, "balance_applied"), 1_500.0);
    assert_eq!(get_num(&a, "terms_amount"), 5_000.0);
    assert_eq!(get_num(&a, "card_amount"), 3_500.0);
    assert_error(
        js_allocate_checkout(n(1.0), n(0.0), n(0.0), s("QQQ")),
        "unknown_currency",
        400,
        Some("currency"),
    );
    let body = obj(&[(
        "balance_transaction",
        obj(&[
            ("amount", n(5000.0)),
            ("currency", s("USD")),
            ("customer", s("CU1")),
        ]),
    )]);
    let e = js_validate_balance_transaction(body).unwrap();
    assert_eq!(get_str(&e, "currency").as_deref(), Some("usd"));
    assert_eq!(
        get_str(&e, "transaction_type").as_deref(),
        Some("adjustment")
    );
    assert_error(
        js_validate_balance_transaction(obj(&[])),
        "missing_field",
        400,
        Some("balance_transaction"),
    );
    let events = arr(&[obj(&[
        ("kind", s("assessed")),
        ("at", s("2024-01-01T00:00:00.000000+00:00")),
        ("tier", n(5.0)),
    ])]);
    let standing = js_credit_replay(events, s("USD")).unwrap();
    assert_eq!(get_num(&standing, "credit_limit"), 50_000.0);
    let m = js_merge_metadata(obj(&[("a", s("1"))]), obj(&[("metadata[b]", s("2"))])).unwrap();
    assert_eq!(get_str(&m, "b").as_deref(), Some("2"));
    assert_error(
        js_merge_metadata(JsValue::NULL, obj(&[("metadata[a]", arr(&[]))])),
        "invalid_field",
        400,
        Some("metadata[a]"),
    );
    assert_eq!(js_uuid().unwrap().len(), 36);
    assert_eq!(
        js_epoch_seconds(s("2024-01-01T00:00:00.999000+00:00")).unwrap(),
        1_704_067_200.0
    );
}
