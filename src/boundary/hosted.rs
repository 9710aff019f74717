//! Exports of hosted invoice tokens ([`crate::hosted_invoice`]): the derived credential of an invoice's page.
//!
//! Thin like the rest of the boundary. The reading exports answer `null` for anything that is not a valid token
//! (never an error): a wrong token must look exactly like a missing invoice.

use wasm_bindgen::prelude::*;

use super::{str_arg, JsResult};
use crate::hosted_invoice;

/// A company's new hosted-invoice secret (base58 of 32 random bytes), made once at company creation.
#[wasm_bindgen(js_name = hostedInvoiceSecret)]
pub fn js_hosted_invoice_secret() -> JsResult<String> {
    Ok(hosted_invoice::new_secret()?)
}

/// The hosted invoice token of `invoiceGuid` of `companyGuid` under the company's `secret`:
/// `<company guid>.<invoice guid>.<first 32 hex digits of HMAC-SHA256(secret, invoice guid)>`. Derived, never stored.
/// @example hostedInvoiceToken("CP…", "IV…", secret) // "CP….IV….3f9a…"
#[wasm_bindgen(js_name = hostedInvoiceToken)]
pub fn js_hosted_invoice_token(
    #[wasm_bindgen(unchecked_param_type = "string")] company_guid: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] invoice_guid: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] secret: JsValue,
) -> JsResult<String> {
    Ok(hosted_invoice::token(
        &str_arg(&company_guid, "company_guid")?,
        &str_arg(&invoice_guid, "invoice_guid")?,
        &str_arg(&secret, "secret")?,
    )?)
}

/// The company guid a well-formed token names, else `null` (the edge still checks that guid's signature).
#[wasm_bindgen(js_name = companyOfHostedInvoiceToken, unchecked_return_type = "string | null")]
pub fn js_company_of_hosted_invoice_token(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
) -> JsValue {
    let token = token.as_string().unwrap_or_default();
    hosted_invoice::company_of(&token).map_or(JsValue::NULL, JsValue::from_str)
}

/// The invoice guid `token` opens in `companyGuid` under its `secret`, else `null`: malformed, another company's, or a
/// wrong MAC (compared in constant time), never told apart.
#[wasm_bindgen(js_name = verifyHostedInvoiceToken, unchecked_return_type = "string | null")]
pub fn js_verify_hosted_invoice_token(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] company_guid: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] secret: JsValue,
) -> JsValue {
    let (Some(token), Some(company), Some(secret)) = (
        token.as_string(),
        company_guid.as_string(),
        secret.as_string(),
    ) else {
        return JsValue::NULL;
    };
    hosted_invoice::verify(&token, &company, &secret).map_or(JsValue::NULL, JsValue::from_str)
}
