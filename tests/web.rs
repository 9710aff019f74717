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
    let g = js_guid(s("CU")).unwrap();
    assert!(g.starts_with("CU") && g.len() > 16);
    assert_error(js_guid(s("cu")), "invalid_field", 400, Some("prefix"));
    assert_error(js_guid(n(1.0)), "invalid_field", 400, Some("prefix"));
    let company = js_guid(s("CP")).unwrap();
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
    let due = js_due_periods(
        start,
        s("monthly"),
        n(1.0),
        n(1.0),
        s("2024-03-31T09:30:00.000000+00:00"),
        n(10.0),
    )
    .unwrap();
    let periods = Array::from(&get(&due, "periods"));
    assert_eq!(periods.length(), 2);
    assert_eq!(get_num(&periods.get(0), "period"), 1.0);
    assert_eq!(
        get_str(&periods.get(1), "scheduled_at").as_deref(),
        Some("2024-03-31T09:30:00.000000+00:00")
    );
    assert_eq!(
        get_str(&due, "next_invoice_at").as_deref(),
        Some("2024-04-30T09:30:00.000000+00:00")
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
    assert_eq!(js_outcome_event(s("succeeded")).unwrap(), "succeeded");
    assert_error(
        js_outcome_event(s("declined")),
        "invalid_field",
        400,
        Some("status"),
    );
}

#[wasm_bindgen_test]
fn refunds() {
    let invoice = |status: &str, refunded: f64| {
        obj(&[
            ("status", s(status)),
            ("transaction_type", s("debit")),
            ("effective_amount", n(900.0)),
            ("refunded_amount", n(refunded)),
        ])
    };
    let r = js_validate_refund(obj(&[("amount", s("400"))]), invoice("settled", 500.0)).unwrap();
    assert_eq!(get_num(&r, "amount"), 400.0);
    let msg = assert_error(
        js_validate_refund(obj(&[("amount", n(600.0))]), invoice("settled", 500.0)),
        "refund_exceeds_amount",
        400,
        Some("amount"),
    );
    assert_eq!(msg, "refund of 600 would bring refunds to 1100, above the invoice's effective amount 900 (already refunded 500)");
    assert_error(
        js_validate_refund(obj(&[("amount", n(1.0))]), invoice("processing", 0.0)),
        "invalid_state",
        409,
        None,
    );
}

#[wasm_bindgen_test]
fn retries() {
    let now = s("2024-03-10T10:00:00.000000+00:00");
    let d = js_retry_decision(n(1.0), n(4.0), JsValue::FALSE, now.clone()).unwrap();
    assert_eq!(get_str(&d, "submit_status").as_deref(), Some("retrying"));
    assert_eq!(
        get_str(&d, "next_retry_at").as_deref(),
        Some("2024-03-10T11:00:00.000000+00:00")
    );
    let d = js_retry_decision(n(2.0), JsValue::NULL, JsValue::FALSE, now.clone()).unwrap();
    assert_eq!(
        get_str(&d, "next_retry_at").as_deref(),
        Some("2024-03-10T16:00:00.000000+00:00")
    );
    let d = js_retry_decision(n(1.0), n(4.0), JsValue::TRUE, now.clone()).unwrap();
    assert_eq!(get_str(&d, "submit_status").as_deref(), Some("failed"));
    assert!(get(&d, "next_retry_at").is_null());
    assert_error(
        js_retry_decision(n(0.0), n(4.0), JsValue::FALSE, now),
        "invalid_field",
        400,
        Some("failure_count"),
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
    assert_error(
        js_validate_plan(obj(&[("plan_type", f.into())])),
        "invalid_field",
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
    assert!(js_guid(s("IV")).is_ok());
}

#[wasm_bindgen_test]
fn invoice_opening_and_js_refunded_amount() {
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

    let tx = |amount: f64, submit: &str, status: JsValue| {
        obj(&[
            ("amount", n(amount)),
            ("submit_status", s(submit)),
            ("status", status),
        ])
    };
    let refunds = arr(&[
        tx(100.0, "done", s("succeeded")),
        tx(200.0, "staged", JsValue::NULL),
        tx(1000.0, "done", s("failed")),
        tx(2000.0, "canceled", JsValue::NULL),
    ]);
    assert_eq!(js_refunded_amount(refunds).unwrap(), 300.0);
    assert_eq!(js_refunded_amount(arr(&[])).unwrap(), 0.0);
    assert_error(
        js_refunded_amount(s("nope")),
        "invalid_field",
        400,
        Some("refunds"),
    );
    assert_error(
        js_refunded_amount(arr(&[obj(&[
            ("amount", n(1.5)),
            ("submit_status", s("done")),
        ])])),
        "invalid_field",
        400,
        Some("refunds[0].amount"),
    );
}
