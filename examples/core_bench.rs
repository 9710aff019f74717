//! Native speed of the core's hot rules, for `npm run bench` to compare the wasm build with:
//! `cargo run --release --example core_bench [n]` prints one JSON line of operations per second.

use std::time::Instant as Clock;

use billy_edge::checkout::allocate;
use billy_edge::escrow::may_spend;
use billy_edge::invoice::{invoice_totals, Adjustment};
use billy_edge::money;
use billy_edge::schedule::{period_at, Frequency};
use billy_edge::time;

fn rate(n: usize, f: impl FnMut(usize)) -> f64 {
    let mut f = f;
    let t = Clock::now();
    for i in 0..n {
        f(i);
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let start = time::parse("2024-01-31T10:00:00Z", "t").unwrap();
    let mut sink = 0i64;
    let periods = rate(n, |i| {
        let t = period_at(start, Frequency::Monthly, 1, (i % 1000) as i64).unwrap();
        sink ^= time::instant_millis(t);
    });
    let adjustments: Vec<Adjustment> = (1..=5)
        .map(|a| Adjustment {
            amount: -a,
            reason: None,
        })
        .collect();
    let totals = rate(n, |i| {
        sink ^= invoice_totals(1000 + i as i64, &adjustments)
            .unwrap()
            .effective_amount
    });
    let splits = rate(n, |i| {
        sink ^= money::allocate(1000 + i as i64, &[70, 30]).unwrap()[0]
    });
    let escrow = rate(n / 10, |i| {
        sink ^= i64::from(may_spend(100, 1000 + i as i64))
    });
    let checkouts = rate(n / 10, |i| {
        sink ^= allocate(80_000 + i as i64, -1_500, 50_000, 50)
            .unwrap()
            .card_amount
    });
    println!(
        "{{\"periods\":{periods:.0},\"totals\":{totals:.0},\"splits\":{splits:.0},\"escrow\":{escrow:.0},\"checkouts\":{checkouts:.0},\"sink\":{sink}}}"
    );
}
