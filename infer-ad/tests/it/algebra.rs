//! Algebraic properties of gradients: linearity and the chain rule.

use infer_ad::Tape;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// ∇(αf + βg) = α∇f + β∇g.
    #[test]
    fn gradient_is_linear(x in -2.0f64..2.0, y in 0.1f64..3.0, al in -3.0f64..3.0, be in -3.0f64..3.0) {
        let grad = |which: u8| {
            let tape = Tape::new();
            let (vx, vy) = (tape.var(x), tape.var(y));
            let f = vx.sin() * vy.ln();
            let g = (vx * vy).exp() / vy;
            let out = match which { 0 => f, 1 => g, _ => f * al + g * be };
            out.backward();
            (vx.grad(), vy.grad())
        };
        let (f, g, c) = (grad(0), grad(1), grad(2));
        prop_assert!((c.0 - (al * f.0 + be * g.0)).abs() <= 1e-9 * (1.0 + c.0.abs()));
        prop_assert!((c.1 - (al * f.1 + be * g.1)).abs() <= 1e-9 * (1.0 + c.1.abs()));
    }

    /// d/dx f(g(x)) = f'(g(x)) g'(x), with f and g's derivatives taken from separate tapes.
    #[test]
    fn chain_rule(x in -2.0f64..2.0) {
        let tape = Tape::new();
        let v = tape.var(x);
        let gx = v.tanh() * 3.0 + v;
        let y = gx.sigmoid().ln_1p();
        y.backward();
        let composed = v.grad();
        let (gval, dg) = { let t = Tape::new(); let v = t.var(x); let g = v.tanh() * 3.0 + v; g.backward(); (g.value(), v.grad()) };
        let df = { let t = Tape::new(); let u = t.var(gval); u.sigmoid().ln_1p().backward(); u.grad() };
        prop_assert!((composed - df * dg).abs() <= 1e-12 * (1.0 + composed.abs()));
    }
}
