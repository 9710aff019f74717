//! Exports of the subscription-billing rules: coupons ([`crate::coupon`]) and proration ([`crate::proration`]).
