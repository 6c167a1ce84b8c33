//! Radii from mesh points. A tessellator puts its mesh vertices on the exact surface or curve, so
//! a least-squares circle or sphere through them recovers the CAD radius to float precision.

use super::geometry::{cross, dot, norm, scale, sub, unit, P3};

/// A circle through `points` (at least 3, not collinear): `(centre, radius)`.
pub fn circle(points: &[P3]) -> Option<(P3, f64)> {
    if points.len() < 3 {
        return None;
    }
    let centroid = mean(points);
    // Newell's normal of the points as a closed polygon (an arc closes along its chord).
    let mut normal = [0.0; 3];
    for (i, p) in points.iter().enumerate() {
        let q = points[(i + 1) % points.len()];
        normal = [
            normal[0] + (p[1] - q[1]) * (p[2] + q[2]),
            normal[1] + (p[2] - q[2]) * (p[0] + q[0]),
            normal[2] + (p[0] - q[0]) * (p[1] + q[1]),
        ];
    }
    let normal = unit(normal)?;
    let (u, v) = basis(normal);
    let flat: Vec<[f64; 2]> = points
        .iter()
        .map(|p| {
            let d = sub(*p, centroid);
            [dot(d, u), dot(d, v)]
        })
        .collect();
    let (center, radius) = circle_2d(&flat)?;
    let center3 = [0, 1, 2].map(|k| centroid[k] + center[0] * u[k] + center[1] * v[k]);
    Some((center3, radius))
}

/// The radius of a cylinder through `points` whose surface `normals` are perpendicular to its
/// axis: `(axis direction, radius)`.
pub fn cylinder(points: &[P3], normals: &[P3]) -> Option<(P3, f64)> {
    let first = unit(*normals.first()?)?;
    // The axis is perpendicular to every normal: across the two most different ones.
    let other = normals
        .iter()
        .max_by(|a, b| norm(cross(first, **a)).total_cmp(&norm(cross(first, **b))))?;
    let axis = unit(cross(first, *other))?;
    if norm(cross(first, unit(*other)?)) < 1e-3 {
        return None;
    }
    let (u, v) = basis(axis);
    let flat: Vec<[f64; 2]> = points.iter().map(|p| [dot(*p, u), dot(*p, v)]).collect();
    let (_, radius) = circle_2d(&flat)?;
    Some((axis, radius))
}

/// A sphere through `points`: `(centre, radius)`.
pub fn sphere(points: &[P3]) -> Option<(P3, f64)> {
    if points.len() < 4 {
        return None;
    }
    let c = mean(points);
    // x² + y² + z² + D x + E y + F z + G = 0, around the centroid for conditioning.
    let mut ata = [[0.0; 4]; 4];
    let mut atb = [0.0; 4];
    for p in points {
        let d = sub(*p, c);
        let row = [d[0], d[1], d[2], 1.0];
        let rhs = -dot(d, d);
        accumulate(&mut ata, &mut atb, &row, rhs);
    }
    let [dd, e, f, g] = solve(ata, atb)?;
    let center = [-dd / 2.0, -e / 2.0, -f / 2.0];
    let r2 = dot(center, center) - g;
    (r2 > 0.0).then(|| {
        (
            [c[0] + center[0], c[1] + center[1], c[2] + center[2]],
            r2.sqrt(),
        )
    })
}

fn circle_2d(points: &[[f64; 2]]) -> Option<([f64; 2], f64)> {
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let c = [
        points.iter().map(|p| p[0]).sum::<f64>() / n,
        points.iter().map(|p| p[1]).sum::<f64>() / n,
    ];
    // x² + y² + D x + E y + F = 0 (Kåsa), around the centroid.
    let mut ata = [[0.0; 3]; 3];
    let mut atb = [0.0; 3];
    for p in points {
        let (x, y) = (p[0] - c[0], p[1] - c[1]);
        accumulate(&mut ata, &mut atb, &[x, y, 1.0], -(x * x + y * y));
    }
    let [d, e, f] = solve(ata, atb)?;
    let center = [-d / 2.0, -e / 2.0];
    let r2 = center[0] * center[0] + center[1] * center[1] - f;
    (r2 > 0.0).then(|| ([c[0] + center[0], c[1] + center[1]], r2.sqrt()))
}

fn accumulate<const N: usize>(
    ata: &mut [[f64; N]; N],
    atb: &mut [f64; N],
    row: &[f64; N],
    rhs: f64,
) {
    for i in 0..N {
        for j in 0..N {
            ata[i][j] += row[i] * row[j];
        }
        atb[i] += row[i] * rhs;
    }
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting; `None` when singular.
fn solve<const N: usize>(mut a: [[f64; N]; N], mut b: [f64; N]) -> Option<[f64; N]> {
    let size = a.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    for col in 0..N {
        let pivot = (col..N).max_by(|x, y| a[*x][col].abs().total_cmp(&a[*y][col].abs()))?;
        if a[pivot][col].abs() <= 1e-12 * size.max(f64::MIN_POSITIVE) {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..N {
            let factor = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (value, above) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *value -= factor * above;
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = [0.0; N];
    for row in (0..N).rev() {
        let rest: f64 = (row + 1..N).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    Some(x)
}

pub fn mean(points: &[P3]) -> P3 {
    let n = points.len().max(1) as f64;
    let sum = points.iter().fold([0.0; 3], |acc, p| {
        [acc[0] + p[0], acc[1] + p[1], acc[2] + p[2]]
    });
    scale(sum, 1.0 / n)
}

/// Two unit vectors perpendicular to `n` and to each other.
fn basis(n: P3) -> (P3, P3) {
    let helper = if n[0].abs() < 0.9 {
        [1.0, 0.0, 0.0]
    } else {
        [0.0, 1.0, 0.0]
    };
    let u = unit(cross(n, helper)).expect("helper is not parallel to n");
    (u, cross(n, u))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_recover_radii_of_exact_samples() {
        let arc: Vec<P3> = (0..7)
            .map(|i| {
                let a = 0.3 + i as f64 * 0.2;
                [5.0 + 2.5 * a.cos(), -1.0, 3.0 + 2.5 * a.sin()]
            })
            .collect();
        let (center, radius) = circle(&arc).unwrap();
        assert!((radius - 2.5).abs() < 1e-9, "{radius}");
        assert!(super::super::geometry::distance(center, [5.0, -1.0, 3.0]) < 1e-9);

        let normals: Vec<P3> = (0..12)
            .map(|i| [(i as f64).cos(), (i as f64).sin(), 0.0])
            .collect();
        let points: Vec<P3> = normals
            .iter()
            .enumerate()
            .map(|(i, n)| [4.0 * n[0] + 1.0, 4.0 * n[1], i as f64])
            .collect();
        let (axis, radius) = cylinder(&points, &normals).unwrap();
        assert!((radius - 4.0).abs() < 1e-9 && (axis[2].abs() - 1.0).abs() < 1e-9);

        let ball: Vec<P3> = (0..20)
            .map(|i| {
                let (t, p) = (i as f64 * 0.7, i as f64 * 0.31);
                [
                    1.0 + 3.0 * t.cos() * p.sin(),
                    2.0 + 3.0 * t.sin() * p.sin(),
                    3.0 * p.cos(),
                ]
            })
            .collect();
        let (_, radius) = sphere(&ball).unwrap();
        assert!((radius - 3.0).abs() < 1e-9);
        assert!(circle(&[[0.0; 3], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0]]).is_none());
    }
}
