//! Points, and the closest points between two simplices (a point, a segment or a triangle):
//! the building block of every distance the tools answer.

/// A point or vector in model units.
pub type P3 = [f64; 3];

pub fn add(a: P3, b: P3) -> P3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

pub fn sub(a: P3, b: P3) -> P3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub fn scale(a: P3, s: f64) -> P3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

pub fn dot(a: P3, b: P3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn cross(a: P3, b: P3) -> P3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub fn norm(a: P3) -> f64 {
    dot(a, a).sqrt()
}

/// `a` scaled to length 1; `None` for a (nearly) zero vector.
pub fn unit(a: P3) -> Option<P3> {
    let n = norm(a);
    (n > 1e-12).then(|| scale(a, 1.0 / n))
}

pub fn distance(a: P3, b: P3) -> f64 {
    norm(sub(a, b))
}

/// `a + t (b - a)`.
pub fn lerp(a: P3, b: P3, t: f64) -> P3 {
    add(a, scale(sub(b, a), t))
}

/// A point, a segment or a triangle: the pieces of a vertex, an edge or a face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Simplex {
    Point(P3),
    Segment(P3, P3),
    Triangle(P3, P3, P3),
}

impl Simplex {
    /// Its corners.
    pub fn corners(&self) -> impl Iterator<Item = P3> {
        let (points, n) = match *self {
            Simplex::Point(a) => ([a, a, a], 1),
            Simplex::Segment(a, b) => ([a, b, b], 2),
            Simplex::Triangle(a, b, c) => ([a, b, c], 3),
        };
        points.into_iter().take(n)
    }

    /// Its sides: none for a point, itself for a segment, three for a triangle.
    fn sides(&self) -> impl Iterator<Item = (P3, P3)> {
        let (sides, n) = match *self {
            Simplex::Point(a) => ([(a, a); 3], 0),
            Simplex::Segment(a, b) => ([(a, b); 3], 1),
            Simplex::Triangle(a, b, c) => ([(a, b), (b, c), (c, a)], 3),
        };
        sides.into_iter().take(n)
    }
}

/// The closest pair of points of two simplices: `(squared distance, on a, on b)`.
pub fn closest(a: &Simplex, b: &Simplex) -> (f64, P3, P3) {
    use Simplex::*;
    match (*a, *b) {
        (Point(p), _) => {
            let q = closest_to_point(b, p);
            (squared(p, q), p, q)
        }
        (_, Point(q)) => {
            let p = closest_to_point(a, q);
            (squared(p, q), p, q)
        }
        (Segment(p0, p1), Segment(q0, q1)) => {
            let (p, q) = segments(p0, p1, q0, q1);
            (squared(p, q), p, q)
        }
        (Segment(p0, p1), Triangle(..)) => segment_triangle(p0, p1, b),
        (Triangle(..), Segment(q0, q1)) => {
            let (d, q, p) = segment_triangle(q0, q1, a);
            (d, p, q)
        }
        (Triangle(..), Triangle(..)) => {
            // Two triangles that cross touch where a side of one passes through the other.
            for (s0, s1) in a.sides() {
                if let Some(x) = segment_hits_triangle(s0, s1, b) {
                    return (0.0, x, x);
                }
            }
            for (s0, s1) in b.sides() {
                if let Some(x) = segment_hits_triangle(s0, s1, a) {
                    return (0.0, x, x);
                }
            }
            // Otherwise the closest pair has a corner of one, or a side of each.
            let mut best = (f64::INFINITY, [0.0; 3], [0.0; 3]);
            let mut consider = |candidate: (f64, P3, P3)| {
                if candidate.0 < best.0 {
                    best = candidate;
                }
            };
            for p in a.corners() {
                let q = closest_to_point(b, p);
                consider((squared(p, q), p, q));
            }
            for q in b.corners() {
                let p = closest_to_point(a, q);
                consider((squared(p, q), p, q));
            }
            for (p0, p1) in a.sides() {
                for (q0, q1) in b.sides() {
                    let (p, q) = segments(p0, p1, q0, q1);
                    consider((squared(p, q), p, q));
                }
            }
            best
        }
    }
}

fn squared(a: P3, b: P3) -> f64 {
    let d = sub(a, b);
    dot(d, d)
}

/// The point of `s` closest to `p`.
pub fn closest_to_point(s: &Simplex, p: P3) -> P3 {
    match *s {
        Simplex::Point(a) => a,
        Simplex::Segment(a, b) => on_segment(p, a, b),
        Simplex::Triangle(a, b, c) => on_triangle(p, a, b, c),
    }
}

fn on_segment(p: P3, a: P3, b: P3) -> P3 {
    let ab = sub(b, a);
    let len = dot(ab, ab);
    if len <= 0.0 {
        return a;
    }
    lerp(a, b, (dot(sub(p, a), ab) / len).clamp(0.0, 1.0))
}

/// The closest point of triangle `abc` to `p`, by the Voronoi regions of its corners and sides
/// (Ericson, Real-Time Collision Detection, 5.1.5).
fn on_triangle(p: P3, a: P3, b: P3, c: P3) -> P3 {
    let ab = sub(b, a);
    let ac = sub(c, a);
    let ap = sub(p, a);
    let d1 = dot(ab, ap);
    let d2 = dot(ac, ap);
    if d1 <= 0.0 && d2 <= 0.0 {
        return a;
    }
    let bp = sub(p, b);
    let d3 = dot(ab, bp);
    let d4 = dot(ac, bp);
    if d3 >= 0.0 && d4 <= d3 {
        return b;
    }
    let vc = d1 * d4 - d3 * d2;
    if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
        return add(a, scale(ab, d1 / (d1 - d3)));
    }
    let cp = sub(p, c);
    let d5 = dot(ab, cp);
    let d6 = dot(ac, cp);
    if d6 >= 0.0 && d5 <= d6 {
        return c;
    }
    let vb = d5 * d2 - d1 * d6;
    if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
        return add(a, scale(ac, d2 / (d2 - d6)));
    }
    let va = d3 * d6 - d5 * d4;
    if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
        return add(b, scale(sub(c, b), (d4 - d3) / ((d4 - d3) + (d5 - d6))));
    }
    let denom = va + vb + vc;
    if denom.abs() < f64::MIN_POSITIVE {
        // A degenerate (zero-area) triangle: its longest side stands for it.
        return [(a, b), (b, c), (c, a)]
            .into_iter()
            .map(|(s, t)| on_segment(p, s, t))
            .min_by(|x, y| squared(*x, p).total_cmp(&squared(*y, p)))
            .expect("three sides");
    }
    let v = vb / denom;
    let w = vc / denom;
    add(a, add(scale(ab, v), scale(ac, w)))
}

/// The closest points of segments `p0p1` and `q0q1` (Ericson 5.1.9).
fn segments(p0: P3, p1: P3, q0: P3, q1: P3) -> (P3, P3) {
    let d1 = sub(p1, p0);
    let d2 = sub(q1, q0);
    let r = sub(p0, q0);
    let a = dot(d1, d1);
    let e = dot(d2, d2);
    let f = dot(d2, r);
    const TINY: f64 = 1e-30;
    if a <= TINY && e <= TINY {
        return (p0, q0);
    }
    let (s, t) = if a <= TINY {
        (0.0, (f / e).clamp(0.0, 1.0))
    } else {
        let c = dot(d1, r);
        if e <= TINY {
            ((-c / a).clamp(0.0, 1.0), 0.0)
        } else {
            let b = dot(d1, d2);
            let denom = a * e - b * b;
            let mut s = if denom > TINY {
                ((b * f - c * e) / denom).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let mut t = (b * s + f) / e;
            if t < 0.0 {
                t = 0.0;
                s = (-c / a).clamp(0.0, 1.0);
            } else if t > 1.0 {
                t = 1.0;
                s = ((b - c) / a).clamp(0.0, 1.0);
            }
            (s, t)
        }
    };
    (lerp(p0, p1, s), lerp(q0, q1, t))
}

/// Where segment `p0p1` passes through triangle `t`, if it does (Möller–Trumbore).
fn segment_hits_triangle(p0: P3, p1: P3, t: &Simplex) -> Option<P3> {
    let Simplex::Triangle(a, b, c) = *t else {
        return None;
    };
    let dir = sub(p1, p0);
    let e1 = sub(b, a);
    let e2 = sub(c, a);
    let h = cross(dir, e2);
    let det = dot(e1, h);
    let scale_ = dot(e1, e1).max(dot(e2, e2)) * dot(dir, dir).sqrt();
    if det.abs() <= 1e-12 * scale_.max(f64::MIN_POSITIVE) {
        return None; // parallel: the corner and side pairs find any contact
    }
    let inv = 1.0 / det;
    let s = sub(p0, a);
    let u = inv * dot(s, h);
    if !(0.0..=1.0).contains(&u) {
        return None;
    }
    let q = cross(s, e1);
    let v = inv * dot(dir, q);
    if v < 0.0 || u + v > 1.0 {
        return None;
    }
    let along = inv * dot(e2, q);
    (0.0..=1.0).contains(&along).then(|| lerp(p0, p1, along))
}

fn segment_triangle(p0: P3, p1: P3, t: &Simplex) -> (f64, P3, P3) {
    if let Some(x) = segment_hits_triangle(p0, p1, t) {
        return (0.0, x, x);
    }
    let mut best = (f64::INFINITY, p0, p0);
    for p in [p0, p1] {
        let q = closest_to_point(t, p);
        let d = squared(p, q);
        if d < best.0 {
            best = (d, p, q);
        }
    }
    for (q0, q1) in t.sides() {
        let (p, q) = segments(p0, p1, q0, q1);
        let d = squared(p, q);
        if d < best.0 {
            best = (d, p, q);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: P3, b: P3) -> bool {
        distance(a, b) < 1e-9
    }

    #[test]
    fn a_point_above_a_triangle_meets_it_straight_below() {
        let t = Simplex::Triangle([0.0, 0.0, 0.0], [4.0, 0.0, 0.0], [0.0, 4.0, 0.0]);
        let (d, p, q) = closest(&Simplex::Point([1.0, 1.0, 3.0]), &t);
        assert!((d - 9.0).abs() < 1e-12);
        assert!(close(p, [1.0, 1.0, 3.0]) && close(q, [1.0, 1.0, 0.0]));
        // Outside its sides, the nearest side or corner.
        assert!(close(
            closest_to_point(&t, [5.0, 5.0, 0.0]),
            [2.0, 2.0, 0.0]
        ));
        assert!(close(
            closest_to_point(&t, [-1.0, -1.0, 0.0]),
            [0.0, 0.0, 0.0]
        ));
    }

    #[test]
    fn skew_segments_meet_at_their_common_perpendicular() {
        let a = Simplex::Segment([-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]);
        let b = Simplex::Segment([0.0, -1.0, 2.0], [0.0, 1.0, 2.0]);
        let (d, p, q) = closest(&a, &b);
        assert!((d - 4.0).abs() < 1e-12);
        assert!(close(p, [0.0, 0.0, 0.0]) && close(q, [0.0, 0.0, 2.0]));
    }

    #[test]
    fn crossing_triangles_touch_and_parallel_ones_keep_their_gap() {
        let flat = Simplex::Triangle([-1.0, -1.0, 0.0], [2.0, -1.0, 0.0], [-1.0, 2.0, 0.0]);
        let upright = Simplex::Triangle([0.0, 0.0, -1.0], [0.0, 0.5, 1.0], [0.5, 0.0, 1.0]);
        assert_eq!(closest(&flat, &upright).0, 0.0);
        let above = Simplex::Triangle([-1.0, -1.0, 5.0], [2.0, -1.0, 5.0], [-1.0, 2.0, 5.0]);
        assert!((closest(&flat, &above).0 - 25.0).abs() < 1e-12);
        let side = Simplex::Segment([5.0, 0.0, 0.0], [5.0, 0.0, 3.0]);
        let (d, p, _) = closest(&side, &flat);
        assert!((d - 10.0).abs() < 1e-9, "{d}");
        assert!(close(p, [5.0, 0.0, 0.0]));
    }
}
