use std::time::Instant;
fn main() {
    for (n, b, t) in [(128usize, 64usize, 100usize), (64, 32, 500)] {
        let w: Vec<f32> = (0..n*n).map(|i| (i % 7) as f32 * 0.01).collect();
        let h: Vec<f32> = (0..n*b*t).map(|i| (i % 5) as f32 * 0.01).collect();
        let mut c = vec![0f32; n*b*t];
        let mut dw = vec![0f32; n*n];
        let mut best_step = f64::MAX; let mut best_dw = f64::MAX;
        for _ in 0..20 {
            let s = Instant::now();
            for k in 0..t { mfrnn::training::bench_gemm(&mut c[k*n*b..(k+1)*n*b], n, b, true, &w, n, n, false, &h[k*n*b..], n, b, false); }
            best_step = best_step.min(s.elapsed().as_secs_f64());
            let s = Instant::now();
            mfrnn::training::bench_gemm(&mut dw, n, n, false, &h, n, b*t, false, &h, n, b*t, true);
            best_dw = best_dw.min(s.elapsed().as_secs_f64());
        }
        let f = 2.0 * (n*n*b*t) as f64;
        println!("N={n} B={b} T={t}: T per-step GEMMs {:.2} ms ({:.1} GF/s), dW {:.2} ms ({:.1} GF/s)", best_step*1e3, f/best_step/1e9, best_dw*1e3, f/best_dw/1e9);
    }
}
