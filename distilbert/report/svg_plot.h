// Plots as SVG, written by hand (no Python, no plotting library): line charts with several series, grouped bar
// charts, and grids of charts in one file. Enough for the main job's report: loss curves per term, learning rate,
// tokens/s, accuracy per model.
//
// Geometry: a chart of width W and height H has a plot area inset by the layout's margins; a value (x, y) maps to
//   px = left + (x - x_axis.min) / (x_axis.max - x_axis.min) * plot_width
//   py = top + plot_height - (y - y_axis.min) / (y_axis.max - y_axis.min) * plot_height
// with the axes' ranges widened to "nice" tick steps (1, 2, 2.5 or 5 times a power of ten) by nice_axis().
// Non-finite values are skipped; a line breaks at them (one <polyline> per finite run).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace distilbert::report {

/// An axis range and its tick positions (min and max are ticks).
struct Axis {
  double min = 0, max = 1, step = 1;
  std::vector<double> ticks;
};

/// The smallest range [k*step, m*step] holding [lo, hi] with step = {1, 2, 2.5, 5} x 10^e chosen so that there are
/// at most max_ticks ticks. lo == hi is widened to lo - 1 .. lo + 1 (or by 10% of |lo|); include_zero extends the
/// range to 0 first. Throws distilbert::Error for non-finite bounds or max_ticks < 2.
Axis nice_axis(double lo, double hi, int max_ticks = 6, bool include_zero = false);

/// A tick label: fixed notation with the step's decimals ("0.25", "1000"), scientific ("5e-04" style: "5e-4")
/// when |value| < 1e-3 or >= 1e6 (and value != 0).
std::string format_tick(double value, double step);

/// Escape &, <, >, " for SVG text and attributes.
std::string xml_escape(const std::string& s);

struct Layout {
  double width = 640, height = 360;
  double left = 72, right = 24, top = 44, bottom = 52;
  double plot_width() const { return width - left - right; }
  double plot_height() const { return height - top - bottom; }
};

struct Series {
  std::string name;
  std::vector<double> x, y;  ///< same length
  std::string color;         ///< "" = the palette's next colour
  bool dashed = false;
  bool markers = false;      ///< a small circle at every point
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool y_from_zero = false;                       ///< include 0 in the y range
  std::optional<double> y_min, y_max;             ///< force the y range (before widening to nice ticks)
  std::vector<std::pair<std::string, double>> hlines;  ///< labelled horizontal reference lines (e.g. chance)
};

struct BarGroup {
  std::string name;             ///< legend entry (e.g. "teacher")
  std::vector<double> values;   ///< one per category
  std::string color;
};

struct BarChart {
  std::string title, y_label;
  std::vector<std::string> categories;
  std::vector<BarGroup> groups;
  int value_decimals = 1;       ///< the number printed above each bar
  std::optional<double> y_max;  ///< force the top of the y range (e.g. 100 for percentages)
  std::vector<std::pair<std::string, double>> hlines;
};

/// The Tableau-10 palette; colour i of a chart's series.
const std::string& palette(size_t i);

/// The axes a line chart will use (finite points of every series plus hlines; an empty chart gets 0..1).
std::pair<Axis, Axis> line_chart_axes(const LineChart& chart);

/// Chart contents as an SVG group placed at (x0, y0), for composing; render_* wrap it in a document.
std::string line_chart_group(const LineChart& chart, const Layout& layout, double x0 = 0, double y0 = 0);
std::string bar_chart_group(const BarChart& chart, const Layout& layout, double x0 = 0, double y0 = 0);

/// A whole SVG document with one chart.
std::string render_line_chart(const LineChart& chart, const Layout& layout = {});
std::string render_bar_chart(const BarChart& chart, const Layout& layout = {});

/// Several line charts in a grid of `columns` columns, each of size `panel`, in one document.
std::string render_line_chart_grid(const std::vector<LineChart>& charts, int columns, const Layout& panel = {},
                                   const std::string& title = "");

/// Wrap a body in <svg ...> with a white background.
std::string svg_document(double width, double height, const std::string& body);

}  // namespace distilbert::report
