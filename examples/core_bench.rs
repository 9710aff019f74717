//! Native speed of the core's hot rules, for `npm run bench` to compare the wasm build with:
//! `cargo run --release --example core_bench [n]` prints one JSON line of operations per second.
//!
//! It runs exactly what the wasm batch exports run (`billy_edge::batch`), the way the JS side of the bench calls
//! them: chunks of 10,000 values, each chunk's input array filled inside the timing. So "native / wasm" is the cost
//! of wasm and of crossing the boundary, not of a different algorithm.

use std::hint::black_box;
use std::time::Instant as Clock;

use billy_edge::batch;
use billy_edge::schedule::Frequency;
use billy_edge::time;

const CHUNK: usize = 10_000;

/// Operations per second of `f(count, first)` called over `n` values in chunks: the best of five passes after one
/// warm-up chunk, as the JS side measures.
fn rate(n: usize, mut f: impl FnMut(usize, usize) -> f64) -> (f64, f64) {
    let mut sink = f(CHUNK.min(n), 0);
    let mut best: f64 = 0.0;
    for _ in 0..5 {
        let t = Clock::now();
        for first in (0..n).step_by(CHUNK) {
            // black_box: the optimiser may not fold chunks together or hoist the rule out of the loop.
            sink += f(black_box(CHUNK.min(n - first)), black_box(first));
        }
        best = best.max(n as f64 / t.elapsed().as_secs_f64());
    }
    (best, sink)
}

/// `count` values `from, from + 1, …` (the JS bench's `seq`), written over `buf` as the JS side refills its typed
/// array: both sides reuse their input buffers, so neither times an allocator (glibc gives freed chunks back to the
/// kernel and faults them in again, which made native escrow slower than wasm).
fn seq(buf: &mut Vec<f64>, count: usize, from: usize) -> &[f64] {
    buf.clear();
    buf.extend((0..count).map(|k| (from + k) as f64));
    buf
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let start = time::parse("2024-01-31T10:00:00Z", "t").unwrap();
    let mut sink = 0.0;
    let mut run = |f: &mut dyn FnMut(usize, usize) -> f64, n: usize| {
        let (ops, s) = rate(n, f);
        sink += s;
        ops
    };
    let periods = run(
        &mut |c, i| {
            batch::periods(start, Frequency::Monthly, 1, (i % 1000) as i64, c as i64).unwrap()[0]
        },
        n,
    );
    let adjustments = [-1.0, -2.0, -3.0, -4.0, -5.0];
    let (mut a, hundreds, fifteens, fifty_thousands) = (
        Vec::with_capacity(CHUNK),
        vec![100.0; CHUNK],
        vec![-1_500.0; CHUNK],
        vec![50_000.0; CHUNK],
    );
    let totals = run(
        &mut |c, i| batch::totals(seq(&mut a, c, 1000 + i), &adjustments).unwrap()[0],
        n,
    );
    let splits = run(
        &mut |c, i| batch::allocations(seq(&mut a, c, 1000 + i), &[70.0, 30.0]).unwrap()[0],
        n,
    );
    let escrow = run(
        &mut |c, i| {
            f64::from(batch::escrow_credits(&hundreds[..c], seq(&mut a, c, 1000 + i)).unwrap()[0])
        },
        n / 10,
    );
    let checkouts = run(
        &mut |c, i| {
            batch::checkout_allocations(
                seq(&mut a, c, 80_000 + i),
                &fifteens[..c],
                &fifty_thousands[..c],
                "USD",
            )
            .unwrap()[2]
        },
        n / 10,
    );
    println!(
        "{{\"periods\":{periods:.0},\"totals\":{totals:.0},\"splits\":{splits:.0},\"escrow\":{escrow:.0},\"checkouts\":{checkouts:.0},\"sink\":{sink}}}"
    );
}
