// SVG line and bar charts; see svg_plot.h.
#include "distilbert/report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "distilbert/core/error.h"

namespace distilbert::report {

namespace {

std::string num(double v) {  // coordinates: 2 decimals, no trailing zeros
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

int decimals_of(double step) {
  // Decimals needed to print multiples of step exactly (step = m x 10^e with m in {1, 2, 2.5, 5}).
  int d = 0;
  double s = std::fabs(step);
  while (d < 12 && std::fabs(s - std::round(s)) > 1e-9 * std::max(1.0, s)) {
    s *= 10;
    ++d;
  }
  return d;
}

}  // namespace

Axis nice_axis(double lo, double hi, int max_ticks, bool include_zero) {
  DISTILBERT_CHECK(std::isfinite(lo) && std::isfinite(hi), "nice_axis: bounds must be finite, got ", lo, " .. ", hi);
  DISTILBERT_CHECK(max_ticks >= 2, "nice_axis: max_ticks must be >= 2, got ", max_ticks);
  if (lo > hi) std::swap(lo, hi);
  if (include_zero) {
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
  }
  if (hi == lo) {
    const double pad = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
    if (include_zero && lo < 0 && lo + pad >= 0) lo = std::min(0.0, lo + pad);
  }
  const double raw = (hi - lo) / (max_ticks - 1);
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  Axis a;
  for (int round = 0; round < 3; ++round, power *= 10) {
    bool found = false;
    for (double m : {1.0, 2.0, 2.5, 5.0}) {
      const double step = m * power;
      const double mn = std::floor(lo / step + 1e-9) * step, mx = std::ceil(hi / step - 1e-9) * step;
      const int n = static_cast<int>(std::llround((mx - mn) / step)) + 1;
      if (n <= max_ticks) {
        a.step = step;
        a.min = mn;
        a.max = mx;
        found = true;
        break;
      }
    }
    if (found) break;
  }
  const int n = static_cast<int>(std::llround((a.max - a.min) / a.step));
  for (int i = 0; i <= n; ++i) {
    double t = a.min + i * a.step;
    if (std::fabs(t) < 1e-12 * a.step) t = 0;
    a.ticks.push_back(t);
  }
  return a;
}

std::string format_tick(double value, double step) {
  char buf[64];
  const double av = std::fabs(value);
  if (value != 0 && (av < 1e-3 || av >= 1e6)) {
    std::snprintf(buf, sizeof(buf), "%.2e", value);
    std::string s = buf;  // "5.00e-04" -> "5e-4", "2.50e+06" -> "2.5e6"
    const auto e = s.find('e');
    std::string mant = s.substr(0, e), exp = s.substr(e + 1);
    if (mant.find('.') != std::string::npos) {
      while (mant.back() == '0') mant.pop_back();
      if (mant.back() == '.') mant.pop_back();
    }
    const bool neg = exp[0] == '-';
    if (exp[0] == '-' || exp[0] == '+') exp = exp.substr(1);
    while (exp.size() > 1 && exp[0] == '0') exp = exp.substr(1);
    return mant + "e" + (neg ? "-" : "") + exp;
  }
  std::snprintf(buf, sizeof(buf), "%.*f", decimals_of(step), value);
  std::string s = buf;
  if (s.find_first_not_of("-0.") == std::string::npos) s = "0";
  return s;
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

const std::string& palette(size_t i) {
  static const std::vector<std::string> p = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                             "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return p[i % p.size()];
}

std::string svg_document(double width, double height, const std::string& body) {
  std::ostringstream s;
  s << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(width) << "\" height=\"" << num(height)
    << "\" viewBox=\"0 0 " << num(width) << " " << num(height)
    << "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
    << "<rect x=\"0\" y=\"0\" width=\"" << num(width) << "\" height=\"" << num(height) << "\" fill=\"white\"/>\n"
    << body << "</svg>\n";
  return s.str();
}

namespace {

struct Frame {
  Layout l;
  double x0, y0;
  Axis xa, ya;
  double px(double x) const { return x0 + l.left + (x - xa.min) / (xa.max - xa.min) * l.plot_width(); }
  double py(double y) const { return y0 + l.top + l.plot_height() - (y - ya.min) / (ya.max - ya.min) * l.plot_height(); }
};

// Title, y-axis grid/ticks/label; x ticks when xa is numeric (draw_x_ticks).
void frame(std::ostringstream& s, const Frame& f, const std::string& title, const std::string& x_label,
           const std::string& y_label, bool draw_x_ticks) {
  const Layout& l = f.l;
  const double left = f.x0 + l.left, top = f.y0 + l.top, right = left + l.plot_width(), bottom = top + l.plot_height();
  if (!title.empty())
    s << "<text x=\"" << num(f.x0 + l.width / 2) << "\" y=\"" << num(f.y0 + 24)
      << "\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">" << xml_escape(title) << "</text>\n";
  s << "<g class=\"y-axis\">\n";
  for (double t : f.ya.ticks) {
    const double y = f.py(t);
    s << "<line x1=\"" << num(left) << "\" y1=\"" << num(y) << "\" x2=\"" << num(right) << "\" y2=\"" << num(y)
      << "\" stroke=\"#e5e5e5\"/>\n"
      << "<text x=\"" << num(left - 6) << "\" y=\"" << num(y + 4) << "\" text-anchor=\"end\">"
      << format_tick(t, f.ya.step) << "</text>\n";
  }
  s << "</g>\n";
  if (draw_x_ticks) {
    s << "<g class=\"x-axis\">\n";
    for (double t : f.xa.ticks) {
      const double x = f.px(t);
      s << "<line x1=\"" << num(x) << "\" y1=\"" << num(bottom) << "\" x2=\"" << num(x) << "\" y2=\""
        << num(bottom + 5) << "\" stroke=\"#333\"/>\n"
        << "<text x=\"" << num(x) << "\" y=\"" << num(bottom + 18) << "\" text-anchor=\"middle\">"
        << format_tick(t, f.xa.step) << "</text>\n";
    }
    s << "</g>\n";
  }
  s << "<rect x=\"" << num(left) << "\" y=\"" << num(top) << "\" width=\"" << num(l.plot_width()) << "\" height=\""
    << num(l.plot_height()) << "\" fill=\"none\" stroke=\"#333\"/>\n";
  if (!x_label.empty())
    s << "<text x=\"" << num((left + right) / 2) << "\" y=\"" << num(f.y0 + l.height - 10)
      << "\" text-anchor=\"middle\">" << xml_escape(x_label) << "</text>\n";
  if (!y_label.empty()) {
    const double x = f.x0 + 16, y = (top + bottom) / 2;
    s << "<text x=\"" << num(x) << "\" y=\"" << num(y) << "\" text-anchor=\"middle\" transform=\"rotate(-90 "
      << num(x) << " " << num(y) << ")\">" << xml_escape(y_label) << "</text>\n";
  }
}

void hline(std::ostringstream& s, const Frame& f, const std::string& label, double v) {
  const double y = f.py(v), left = f.x0 + f.l.left, right = left + f.l.plot_width();
  s << "<line class=\"hline\" x1=\"" << num(left) << "\" y1=\"" << num(y) << "\" x2=\"" << num(right) << "\" y2=\""
    << num(y) << "\" stroke=\"#666\" stroke-dasharray=\"6 4\"/>\n"
    << "<text x=\"" << num(left + 6) << "\" y=\"" << num(y - 5) << "\" fill=\"#666\">" << xml_escape(label)
    << "</text>\n";
}

void legend(std::ostringstream& s, const Frame& f, const std::vector<std::pair<std::string, std::string>>& entries,
            bool bars) {
  if (entries.empty()) return;
  size_t longest = 0;
  for (const auto& e : entries) longest = std::max(longest, e.first.size());
  const double w = 34 + 6.8 * static_cast<double>(longest), h = 8 + 18.0 * static_cast<double>(entries.size());
  const double x = f.x0 + f.l.left + f.l.plot_width() - w - 8, y = f.y0 + f.l.top + 8;
  s << "<g class=\"legend\">\n<rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(w)
    << "\" height=\"" << num(h) << "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n";
  for (size_t i = 0; i < entries.size(); ++i) {
    const double cy = y + 13 + 18.0 * static_cast<double>(i);
    if (bars)
      s << "<rect x=\"" << num(x + 6) << "\" y=\"" << num(cy - 5) << "\" width=\"18\" height=\"10\" fill=\""
        << entries[i].second << "\"/>\n";
    else
      s << "<line x1=\"" << num(x + 6) << "\" y1=\"" << num(cy) << "\" x2=\"" << num(x + 24) << "\" y2=\"" << num(cy)
        << "\" stroke=\"" << entries[i].second << "\" stroke-width=\"2.5\"/>\n";
    s << "<text x=\"" << num(x + 30) << "\" y=\"" << num(cy + 4) << "\">" << xml_escape(entries[i].first)
      << "</text>\n";
  }
  s << "</g>\n";
}

}  // namespace

std::pair<Axis, Axis> line_chart_axes(const LineChart& c) {
  double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
  for (const auto& se : c.series) {
    DISTILBERT_CHECK(se.x.size() == se.y.size(), "line chart '", c.title, "': series '", se.name, "' has ", se.x.size(),
                     " x values but ", se.y.size(), " y values");
    for (size_t i = 0; i < se.x.size(); ++i) {
      if (!std::isfinite(se.x[i]) || !std::isfinite(se.y[i])) continue;
      xlo = std::min(xlo, se.x[i]);
      xhi = std::max(xhi, se.x[i]);
      ylo = std::min(ylo, se.y[i]);
      yhi = std::max(yhi, se.y[i]);
    }
  }
  for (const auto& h : c.hlines) {
    ylo = std::min(ylo, h.second);
    yhi = std::max(yhi, h.second);
  }
  if (!std::isfinite(xlo)) xlo = 0, xhi = 1;
  if (!std::isfinite(ylo)) ylo = 0, yhi = 1;
  if (c.y_min) ylo = *c.y_min;
  if (c.y_max) yhi = *c.y_max;
  return {nice_axis(xlo, xhi, 7), nice_axis(ylo, yhi, 6, c.y_from_zero)};
}

std::string line_chart_group(const LineChart& c, const Layout& l, double x0, double y0) {
  const auto [xa, ya] = line_chart_axes(c);
  const Frame f{l, x0, y0, xa, ya};
  std::ostringstream s;
  s << "<g class=\"line-chart\">\n";
  frame(s, f, c.title, c.x_label, c.y_label, true);
  for (const auto& h : c.hlines) hline(s, f, h.first, h.second);
  std::vector<std::pair<std::string, std::string>> entries;
  for (size_t k = 0; k < c.series.size(); ++k) {
    const auto& se = c.series[k];
    const std::string color = se.color.empty() ? palette(k) : se.color;
    entries.emplace_back(se.name, color);
    s << "<g class=\"series\" data-name=\"" << xml_escape(se.name) << "\">\n";
    std::vector<std::string> run;
    auto flush = [&] {
      if (run.empty()) return;
      s << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\""
        << (se.dashed ? " stroke-dasharray=\"6 3\"" : "") << " points=\"";
      for (size_t i = 0; i < run.size(); ++i) s << (i ? " " : "") << run[i];
      s << "\"/>\n";
      run.clear();
    };
    for (size_t i = 0; i < se.x.size(); ++i) {
      if (!std::isfinite(se.x[i]) || !std::isfinite(se.y[i])) {
        flush();
        continue;
      }
      run.push_back(num(f.px(se.x[i])) + "," + num(f.py(se.y[i])));
      if (se.markers)
        s << "<circle cx=\"" << num(f.px(se.x[i])) << "\" cy=\"" << num(f.py(se.y[i])) << "\" r=\"3\" fill=\""
          << color << "\"/>\n";
    }
    flush();
    s << "</g>\n";
  }
  if (c.series.size() > 1) legend(s, f, entries, false);
  s << "</g>\n";
  return s.str();
}

std::string bar_chart_group(const BarChart& c, const Layout& l, double x0, double y0) {
  double hi = 0;
  for (const auto& g : c.groups) {
    DISTILBERT_CHECK(g.values.size() == c.categories.size(), "bar chart '", c.title, "': group '", g.name, "' has ",
                     g.values.size(), " values for ", c.categories.size(), " categories");
    for (double v : g.values)
      if (std::isfinite(v)) hi = std::max(hi, v);
  }
  for (const auto& h : c.hlines) hi = std::max(hi, h.second);
  if (c.y_max) hi = *c.y_max;
  if (hi == 0) hi = 1;
  const Frame f{l, x0, y0, nice_axis(0, 1, 2), nice_axis(0, hi, 6, true)};
  std::ostringstream s;
  s << "<g class=\"bar-chart\">\n";
  frame(s, f, c.title, "", c.y_label, false);
  const double n_cat = std::max<double>(1, static_cast<double>(c.categories.size()));
  const double slot = l.plot_width() / n_cat, n_groups = std::max<double>(1, static_cast<double>(c.groups.size()));
  const double bar_w = slot * 0.7 / n_groups, base = f.py(0);
  std::vector<std::pair<std::string, std::string>> entries;
  for (size_t gi = 0; gi < c.groups.size(); ++gi) {
    const auto& g = c.groups[gi];
    const std::string color = g.color.empty() ? palette(gi) : g.color;
    entries.emplace_back(g.name, color);
    for (size_t ci = 0; ci < c.categories.size(); ++ci) {
      const double v = g.values[ci];
      if (!std::isfinite(v)) continue;
      const double x = x0 + l.left + slot * static_cast<double>(ci) + slot * 0.15 + bar_w * static_cast<double>(gi);
      const double y = f.py(v);
      char label[64];
      std::snprintf(label, sizeof(label), "%.*f", c.value_decimals, v);
      s << "<rect class=\"bar\" data-group=\"" << xml_escape(g.name) << "\" data-value=\"" << label << "\" x=\""
        << num(x) << "\" y=\"" << num(std::min(y, base)) << "\" width=\"" << num(bar_w) << "\" height=\""
        << num(std::fabs(base - y)) << "\" fill=\"" << color << "\"/>\n"
        << "<text x=\"" << num(x + bar_w / 2) << "\" y=\"" << num(std::min(y, base) - 5)
        << "\" text-anchor=\"middle\">" << label << "</text>\n";
    }
  }
  for (size_t ci = 0; ci < c.categories.size(); ++ci)
    s << "<text x=\"" << num(x0 + l.left + slot * (static_cast<double>(ci) + 0.5)) << "\" y=\""
      << num(y0 + l.top + l.plot_height() + 20) << "\" text-anchor=\"middle\">" << xml_escape(c.categories[ci])
      << "</text>\n";
  for (const auto& h : c.hlines) hline(s, f, h.first, h.second);
  if (c.groups.size() > 1) legend(s, f, entries, true);
  s << "</g>\n";
  return s.str();
}

std::string render_line_chart(const LineChart& c, const Layout& l) {
  return svg_document(l.width, l.height, line_chart_group(c, l));
}

std::string render_bar_chart(const BarChart& c, const Layout& l) {
  return svg_document(l.width, l.height, bar_chart_group(c, l));
}

std::string render_line_chart_grid(const std::vector<LineChart>& charts, int columns, const Layout& panel,
                                   const std::string& title) {
  DISTILBERT_CHECK(columns >= 1, "render_line_chart_grid: columns must be >= 1, got ", columns);
  const double head = title.empty() ? 0 : 36;
  const int rows = std::max(1, (static_cast<int>(charts.size()) + columns - 1) / columns);
  const int cols = std::max(1, std::min<int>(columns, static_cast<int>(charts.size())));
  std::ostringstream s;
  if (!title.empty())
    s << "<text x=\"" << num(panel.width * cols / 2) << "\" y=\"26\" text-anchor=\"middle\" font-size=\"17\" "
      << "font-weight=\"bold\">" << xml_escape(title) << "</text>\n";
  for (size_t i = 0; i < charts.size(); ++i)
    s << line_chart_group(charts[i], panel, panel.width * static_cast<double>(i % static_cast<size_t>(columns)),
                          head + panel.height * static_cast<double>(i / static_cast<size_t>(columns)));
  return svg_document(panel.width * cols, head + panel.height * rows, s.str());
}

}  // namespace distilbert::report
