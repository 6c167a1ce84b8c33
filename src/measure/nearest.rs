//! The minimum distance between two sets of simplices (the triangles of a face, the segments of
//! an edge, a vertex) with the two points where it is reached.
//!
//! Each set gets a bounding-volume tree; the two trees are walked together, nearest boxes first,
//! skipping every pair of boxes farther apart than the best pair found so far. Two faces of a few
//! thousand triangles each cost milliseconds instead of the millions of pairs a plain double loop
//! would try.

use super::geometry::{closest, Simplex, P3};
use super::mesh::Simplices;

/// The shortest distance between two sets and where it is reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    pub distance: f64,
    pub on_first: P3,
    pub on_second: P3,
}

/// The shortest distance between `a` and `b`; `None` when either is empty.
pub fn nearest(a: &Simplices, b: &Simplices) -> Option<Nearest> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (ta, tb) = (Tree::new(a), Tree::new(b));
    let mut best = (f64::INFINITY, [0.0; 3], [0.0; 3]);
    let mut stack = vec![(ta.root, tb.root)];
    while let Some((i, j)) = stack.pop() {
        let (na, nb) = (&ta.nodes[i], &tb.nodes[j]);
        if na.bounds.gap(&nb.bounds) >= best.0 {
            continue;
        }
        match (na.children, nb.children) {
            (None, None) => {
                for &x in &ta.order[na.items.clone()] {
                    let sa = a.get(x as usize);
                    let box_a = Bounds::of(&sa);
                    for &y in &tb.order[nb.items.clone()] {
                        let sb = b.get(y as usize);
                        // Boxes first: most pairs of a leaf pair are farther apart than the best.
                        if box_a.gap(&Bounds::of(&sb)) >= best.0 {
                            continue;
                        }
                        let candidate = closest(&sa, &sb);
                        if candidate.0 < best.0 {
                            best = candidate;
                        }
                    }
                }
            }
            (children_a, children_b) => {
                // Open the bigger box (or the one that can be opened).
                let open_a = match (children_a, children_b) {
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    _ => na.bounds.extent() >= nb.bounds.extent(),
                };
                let mut pairs: Vec<(usize, usize)> = match (open_a, children_a, children_b) {
                    (true, Some((l, r)), _) => vec![(l, j), (r, j)],
                    (false, _, Some((l, r))) => vec![(i, l), (i, r)],
                    _ => unreachable!("the opened box has children"),
                };
                // The nearer pair is popped first.
                let gap = |(x, y): &(usize, usize)| ta.nodes[*x].bounds.gap(&tb.nodes[*y].bounds);
                pairs.sort_by(|p, q| gap(q).total_cmp(&gap(p)));
                stack.extend(pairs);
            }
        }
    }
    Some(Nearest {
        distance: best.0.sqrt(),
        on_first: best.1,
        on_second: best.2,
    })
}

/// An axis-aligned box.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    lo: P3,
    hi: P3,
}

impl Bounds {
    fn of(simplex: &Simplex) -> Self {
        let mut b = Bounds::empty();
        simplex.corners().for_each(|p| b.grow(p));
        b
    }

    fn empty() -> Self {
        Bounds {
            lo: [f64::INFINITY; 3],
            hi: [f64::NEG_INFINITY; 3],
        }
    }

    fn grow(&mut self, p: P3) {
        for (k, value) in p.into_iter().enumerate() {
            self.lo[k] = self.lo[k].min(value);
            self.hi[k] = self.hi[k].max(value);
        }
    }

    /// The squared distance between two boxes (0 when they overlap).
    fn gap(&self, other: &Bounds) -> f64 {
        (0..3)
            .map(|k| {
                let d = (self.lo[k] - other.hi[k])
                    .max(other.lo[k] - self.hi[k])
                    .max(0.0);
                d * d
            })
            .sum()
    }

    fn extent(&self) -> f64 {
        (0..3).map(|k| self.hi[k] - self.lo[k]).fold(0.0, f64::max)
    }
}

struct TreeNode {
    bounds: Bounds,
    /// The range of `Tree::order` this node holds.
    items: std::ops::Range<usize>,
    children: Option<(usize, usize)>,
}

/// A bounding-volume tree over a set of simplices: sorted along a Morton curve of their centres,
/// cut into leaves of consecutive simplices, and paired up level by level. Building is a sort
/// and linear passes, without the random access of splitting at medians.
struct Tree {
    nodes: Vec<TreeNode>,
    /// Simplex indices in Morton order; leaves hold runs of it.
    order: Vec<u32>,
    root: usize,
}

/// Simplices per leaf.
const LEAF: usize = 8;

impl Tree {
    fn new(simplices: &Simplices) -> Self {
        let mut extent = Bounds::empty();
        let centers: Vec<[f32; 3]> = simplices
            .iter()
            .map(|s| {
                let b = Bounds::of(&s);
                let c = [0, 1, 2].map(|k| (b.lo[k] + b.hi[k]) / 2.0);
                extent.grow(c);
                c.map(|v| v as f32)
            })
            .collect();
        let mut keyed: Vec<(u64, u32)> = centers
            .iter()
            .enumerate()
            .map(|(i, c)| (morton(&c.map(f64::from), &extent), i as u32))
            .collect();
        drop(centers);
        keyed.sort_unstable();
        let order: Vec<u32> = keyed.into_iter().map(|(_, i)| i).collect();

        let mut nodes = Vec::with_capacity(2 * order.len() / LEAF + 2);
        let mut level: Vec<usize> = Vec::new();
        for start in (0..order.len()).step_by(LEAF) {
            let items = start..(start + LEAF).min(order.len());
            let mut b = Bounds::empty();
            for &k in &order[items.clone()] {
                simplices.get(k as usize).corners().for_each(|p| b.grow(p));
            }
            level.push(nodes.len());
            nodes.push(TreeNode {
                bounds: b,
                items,
                children: None,
            });
        }
        while level.len() > 1 {
            let mut next = Vec::with_capacity(level.len() / 2 + 1);
            for pair in level.chunks(2) {
                match *pair {
                    [left, right] => {
                        let mut b: Bounds = nodes[left].bounds;
                        b.grow(nodes[right].bounds.lo);
                        b.grow(nodes[right].bounds.hi);
                        next.push(nodes.len());
                        nodes.push(TreeNode {
                            bounds: b,
                            items: 0..0,
                            children: Some((left, right)),
                        });
                    }
                    [single] => next.push(single),
                    _ => unreachable!("chunks of two"),
                }
            }
            level = next;
        }
        let root = level.first().copied().unwrap_or(0);
        Tree { nodes, order, root }
    }
}

/// The Morton code of `c` within `extent`: 21 bits per axis, interleaved.
fn morton(c: &P3, extent: &Bounds) -> u64 {
    let spread = |v: u64| {
        let mut x = v & 0x1f_ffff;
        x = (x | x << 32) & 0x1f00000000ffff;
        x = (x | x << 16) & 0x1f0000ff0000ff;
        x = (x | x << 8) & 0x100f00f00f00f00f;
        x = (x | x << 4) & 0x10c30c30c30c30c3;
        (x | x << 2) & 0x1249249249249249
    };
    let cell = |k: usize| {
        let size = extent.hi[k] - extent.lo[k];
        let t = if size > 0.0 {
            (c[k] - extent.lo[k]) / size
        } else {
            0.0
        };
        (t.clamp(0.0, 1.0) * 2_097_151.0) as u64
    };
    spread(cell(0)) | spread(cell(1)) << 1 | spread(cell(2)) << 2
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat grid of triangles at height `z`, `n` by `n` cells of size 1 from `origin`.
    fn grid(origin: [f64; 2], n: usize, z: f64) -> Vec<Simplex> {
        let mut out = Vec::new();
        for i in 0..n {
            for j in 0..n {
                let (x, y) = (origin[0] + i as f64, origin[1] + j as f64);
                out.push(Simplex::Triangle(
                    [x, y, z],
                    [x + 1.0, y, z],
                    [x, y + 1.0, z],
                ));
                out.push(Simplex::Triangle(
                    [x + 1.0, y, z],
                    [x + 1.0, y + 1.0, z],
                    [x, y + 1.0, z],
                ));
            }
        }
        out
    }

    #[test]
    fn the_tree_walk_finds_what_trying_every_pair_finds() {
        let a = grid([0.0, 0.0], 12, 0.0);
        let mut b = grid([15.0, 4.0], 9, 2.0);
        b.push(Simplex::Segment([12.5, 3.0, 1.0], [30.0, 3.0, 1.0]));
        let (sa, sb) = (Simplices::Listed(a.clone()), Simplices::Listed(b.clone()));
        let found = nearest(&sa, &sb).unwrap();
        let brute = a
            .iter()
            .flat_map(|x| b.iter().map(move |y| closest(x, y).0))
            .fold(f64::INFINITY, f64::min)
            .sqrt();
        assert!(
            (found.distance - brute).abs() < 1e-12,
            "{found:?} vs {brute}"
        );
        // The segment passes 0.5 beside the grid's corner side at x = 12, one unit up.
        assert!((found.distance - (0.25f64 + 1.0).sqrt()).abs() < 1e-12);
        assert!(nearest(&sa, &Simplices::Listed(Vec::new())).is_none());
    }
}
