// app/progress.cpp: the executor's progress line (see progress.hpp).
#include "app/progress.hpp"

#include <fmt/core.h>

#include <cmath>

namespace b24sync::app {

namespace {

std::string grouped(std::size_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string duration_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  auto total = static_cast<long long>(std::llround(s));
  if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
  if (total >= 60) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}s", total);
}

}  // namespace

std::string format_progress(const sync::progress& p) {
  const double secs = std::chrono::duration<double>(p.elapsed).count();
  const double rate = secs > 0 ? static_cast<double>(p.done) / secs : 0.0;
  const double pct = p.total > 0 ? 100.0 * static_cast<double>(p.done) / static_cast<double>(p.total) : 100.0;
  std::string eta = p.done >= p.total ? "done"
                    : rate > 0        ? "ETA " + duration_text(static_cast<double>(p.total - p.done) / rate)
                                      : "ETA ?";
  return fmt::format("{:<11} {}/{}  {:.0f}%  {:.1f}/s  {}  503s: {}", p.phase, grouped(p.done), grouped(p.total), pct,
                     rate, eta, p.http_503);
}

progress_printer::progress_printer(bool tty, std::shared_ptr<spdlog::logger> log, std::FILE* out,
                                   std::chrono::seconds every)
    : tty_(tty), log_(std::move(log)), out_(out), every_(every) {}

void progress_printer::operator()(const sync::progress& p) {
  const bool finished = p.done >= p.total;
  if (tty_) {
    fmt::print(out_, "\r\033[K{}{}", format_progress(p), finished ? "\n" : "");
    std::fflush(out_);
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  const bool new_phase = last_phase_ != p.phase;
  if (new_phase || finished || now - last_log_ >= every_) {
    if (log_) log_->info("progress: {}", format_progress(p));
    last_log_ = now;
    last_phase_ = std::string(p.phase);
  }
}

}  // namespace b24sync::app
