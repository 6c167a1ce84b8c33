//! The minimum distance between two sets of simplices (the triangles of a face, the segments of
//! an edge, a vertex) with the two points where it is reached.
//!
//! Each set gets a bounding-volume tree; the two trees are walked together, nearest boxes first,
//! skipping every pair of boxes farther apart than the best pair found so far. Two faces of a few
//! thousand triangles each cost milliseconds instead of the millions of pairs a plain double loop
//! would try.

use super::geometry::{closest, Simplex, P3};

/// The shortest distance between two sets and where it is reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    pub distance: f64,
    pub on_first: P3,
    pub on_second: P3,
}

/// The shortest distance between `a` and `b`; `None` when either is empty.
pub fn nearest(a: &[Simplex], b: &[Simplex]) -> Option<Nearest> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (ta, tb) = (Tree::new(a), Tree::new(b));
    let mut best = (f64::INFINITY, [0.0; 3], [0.0; 3]);
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        let (na, nb) = (&ta.nodes[i], &tb.nodes[j]);
        if na.bounds.gap(&nb.bounds) >= best.0 {
            continue;
        }
        match (na.children, nb.children) {
            (None, None) => {
                for x in &ta.order[na.items.clone()] {
                    for y in &tb.order[nb.items.clone()] {
                        let candidate = closest(&a[*x], &b[*y]);
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

    fn longest_axis(&self) -> usize {
        (0..3)
            .max_by(|x, y| (self.hi[*x] - self.lo[*x]).total_cmp(&(self.hi[*y] - self.lo[*y])))
            .unwrap_or(0)
    }
}

struct TreeNode {
    bounds: Bounds,
    /// The range of `Tree::order` this node holds.
    items: std::ops::Range<usize>,
    children: Option<(usize, usize)>,
}

/// A bounding-volume tree over a set of simplices, split at the median of the longest axis.
struct Tree {
    nodes: Vec<TreeNode>,
    order: Vec<usize>,
}

/// Simplices per leaf.
const LEAF: usize = 4;

impl Tree {
    fn new(simplices: &[Simplex]) -> Self {
        let centers: Vec<P3> = simplices
            .iter()
            .map(|s| {
                let (sum, n) = s.corners().fold(([0.0; 3], 0.0), |(acc, n), p| {
                    (super::geometry::add(acc, p), n + 1.0)
                });
                super::geometry::scale(sum, 1.0 / n)
            })
            .collect();
        let mut tree = Tree {
            nodes: Vec::with_capacity(2 * simplices.len() / LEAF + 1),
            order: (0..simplices.len()).collect(),
        };
        tree.build(simplices, &centers, 0..simplices.len());
        tree
    }

    /// Adds the node for `items` (and its subtree); answers its index.
    fn build(
        &mut self,
        simplices: &[Simplex],
        centers: &[P3],
        items: std::ops::Range<usize>,
    ) -> usize {
        let mut bounds = Bounds::empty();
        for &k in &self.order[items.clone()] {
            simplices[k].corners().for_each(|p| bounds.grow(p));
        }
        let index = self.nodes.len();
        self.nodes.push(TreeNode {
            bounds,
            items: items.clone(),
            children: None,
        });
        if items.len() > LEAF {
            let axis = bounds.longest_axis();
            let mid = items.start + items.len() / 2;
            self.order[items.clone()].select_nth_unstable_by(mid - items.start, |x, y| {
                centers[*x][axis].total_cmp(&centers[*y][axis])
            });
            let left = self.build(simplices, centers, items.start..mid);
            let right = self.build(simplices, centers, mid..items.end);
            self.nodes[index].children = Some((left, right));
        }
        index
    }
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
        let found = nearest(&a, &b).unwrap();
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
        assert!(nearest(&a, &[]).is_none());
    }
}
