//! Inline SVG charts, computed here as numbers and labels (the templates only
//! place them, escaped): a bar chart over time buckets and a session's swimlane.

use super::format;

pub(crate) const CHART_WIDTH: f64 = 560.0;
pub(crate) const CHART_HEIGHT: f64 = 160.0;
/// Room for the y labels on the left and the x labels below.
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;

#[derive(Debug, Clone)]
pub(crate) struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    /// The tooltip: bucket and value.
    pub label: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Tick {
    pub x: String,
    pub y: String,
    pub label: String,
}

/// One series over time buckets.
#[derive(Debug, Clone)]
pub(crate) struct BarChart {
    pub title: String,
    pub class: &'static str,
    pub total: u64,
    pub bars: Vec<Bar>,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    /// The axes' corner and ends.
    pub axis_x0: String,
    pub axis_x1: String,
    pub axis_y0: String,
    pub axis_y1: String,
    /// A short description for screen readers.
    pub summary: String,
}

fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// A round maximum for the y axis at or above `max`.
fn nice_max(max: u64) -> u64 {
    if max <= 5 {
        return max.max(1);
    }
    let mag = 10u64.pow((max as f64).log10().floor() as u32);
    for step in [1, 2, 5, 10] {
        if step * mag >= max {
            return step * mag;
        }
    }
    10 * mag
}

/// Bars for `values`, bucket `i` starting at `start_ns + i * width_ns`.
pub(crate) fn bar_chart(
    title: &str,
    class: &'static str,
    start_ns: i64,
    width_ns: i64,
    values: &[u64],
) -> BarChart {
    let plot_w = CHART_WIDTH - LEFT - 4.0;
    let plot_h = CHART_HEIGHT - TOP - BOTTOM;
    let max = nice_max(values.iter().copied().max().unwrap_or(0));
    let slot = plot_w / values.len().max(1) as f64;
    let gap = (slot * 0.15).min(3.0);
    let with_seconds = width_ns < 60_000_000_000;
    let bars = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let h = plot_h * v as f64 / max as f64;
            let t = start_ns + i as i64 * width_ns;
            Bar {
                x: n(LEFT + i as f64 * slot + gap / 2.0),
                y: n(TOP + plot_h - h),
                width: n((slot - gap).max(1.0)),
                height: n(h),
                label: format!("{}: {v}", format::time_of_ns(t, with_seconds)),
            }
        })
        .collect();
    let ticks = 4.min(values.len());
    let x_ticks = (0..ticks)
        .map(|k| {
            let i = k * values.len() / ticks.max(1);
            Tick {
                x: n(LEFT + i as f64 * slot),
                y: n(CHART_HEIGHT - 6.0),
                label: format::time_of_ns(start_ns + i as i64 * width_ns, with_seconds),
            }
        })
        .collect();
    let y_ticks = [0, max / 2, max]
        .into_iter()
        .map(|v| Tick {
            x: n(LEFT - 6.0),
            y: n(TOP + plot_h - plot_h * v as f64 / max as f64 + 4.0),
            label: v.to_string(),
        })
        .collect();
    let total = values.iter().sum();
    BarChart {
        title: title.to_string(),
        class,
        total,
        bars,
        x_ticks,
        y_ticks,
        axis_x0: n(LEFT),
        axis_x1: n(CHART_WIDTH - 4.0),
        axis_y0: n(TOP),
        axis_y1: n(TOP + plot_h),
        summary: format!(
            "{title}: {total} in {} buckets from {}",
            values.len(),
            format::time_of_ns(start_ns, with_seconds)
        ),
    }
}

/// A mark on the swimlane: one event, coloured by what it is and how it was decided.
#[derive(Debug, Clone)]
pub(crate) struct Mark {
    pub x: String,
    pub y: String,
    pub class: String,
    pub href: String,
    pub label: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Lane {
    pub y: String,
    pub line_y: String,
    pub label: &'static str,
}

#[derive(Debug, Clone)]
pub(crate) struct Swimlane {
    pub width: String,
    pub height: String,
    pub lanes: Vec<Lane>,
    pub marks: Vec<Mark>,
    pub start: String,
    pub end: String,
    pub line_x0: String,
    pub line_x1: String,
    pub axis_y: String,
}

const LANES: [&str; 5] = ["prompts", "model", "tools", "network · MCP", "findings"];
const LANE_H: f64 = 22.0;
const LANE_LEFT: f64 = 96.0;
const SWIM_WIDTH: f64 = 960.0;

/// One event to place: its time, lane (an index into [`LANES`]), class, link and tooltip.
pub(crate) struct Placed {
    pub ts_ns: i64,
    pub lane: usize,
    pub class: String,
    pub href: String,
    pub label: String,
}

pub(crate) fn swimlane(items: Vec<Placed>) -> Option<Swimlane> {
    let lo = items.iter().map(|p| p.ts_ns).min()?;
    let hi = items.iter().map(|p| p.ts_ns).max()?;
    let span = (hi - lo).max(1) as f64;
    let plot_w = SWIM_WIDTH - LANE_LEFT - 12.0;
    let lane_y = |i: usize| 10.0 + i as f64 * LANE_H;
    let marks = items
        .into_iter()
        .map(|p| Mark {
            x: n(LANE_LEFT + 6.0 + plot_w * (p.ts_ns - lo) as f64 / span),
            y: n(lane_y(p.lane) + LANE_H / 2.0),
            class: p.class,
            href: p.href,
            label: p.label,
        })
        .collect();
    let lanes = LANES
        .iter()
        .enumerate()
        .map(|(i, label)| Lane {
            y: n(lane_y(i) + LANE_H / 2.0 + 4.0),
            line_y: n(lane_y(i) + LANE_H / 2.0),
            label,
        })
        .collect();
    let axis_y = lane_y(LANES.len()) + 14.0;
    Some(Swimlane {
        width: n(SWIM_WIDTH),
        height: n(axis_y + 6.0),
        lanes,
        marks,
        start: format::time_of_ns_ms(lo),
        end: format::time_of_ns_ms(hi),
        line_x0: n(LANE_LEFT),
        line_x1: n(SWIM_WIDTH - 6.0),
        axis_y: n(axis_y),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_a_round_maximum_and_label_their_bucket() {
        let c = bar_chart("actions", "actions", 0, 3_600_000_000_000, &[0, 5, 10, 3]);
        assert_eq!(c.total, 18);
        assert_eq!(c.bars.len(), 4);
        assert_eq!(c.bars[0].height, "0.0");
        assert_eq!(c.bars[2].height, n(CHART_HEIGHT - TOP - BOTTOM));
        assert_eq!(c.bars[1].label, "1970-01-01 01:00: 5");
        let labels: Vec<_> = c.y_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0", "5", "10"]);
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(4321), 5000);
    }

    #[test]
    fn the_swimlane_spans_the_session() {
        assert!(swimlane(Vec::new()).is_none());
        let p = |ts_ns, lane| Placed {
            ts_ns,
            lane,
            class: "x".into(),
            href: "#e".into(),
            label: "l".into(),
        };
        let s = swimlane(vec![p(1_000_000_000, 0), p(3_000_000_000, 2)]).unwrap();
        assert_eq!(s.marks[0].x, n(LANE_LEFT + 6.0));
        assert_eq!(s.marks[1].x, n(SWIM_WIDTH - 12.0 + 6.0));
        assert_eq!(s.start, "1970-01-01 00:00:01.000");
        assert_eq!(s.end, "1970-01-01 00:00:03.000");
        assert_eq!(s.lanes.len(), LANES.len());
    }
}
