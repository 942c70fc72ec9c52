// SPDX-License-Identifier: Apache-2.0
#include "inspect.hpp"

#include "../derived_keys.hpp"
#include "../inspect_output.hpp"
#include "../keystore_access.hpp"

#include <stek/derive.hpp>
#include <stek/inspect/capture.hpp>
#include <stek/inspect/input.hpp>
#include <stek/inspect/keylog.hpp>
#include <stek/inspect/pem_session.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace stekctl {
namespace {

namespace si = stek::inspect;

// Text and binary inputs hold one ticket or a few saved sessions; anything
// bigger is not one of them, and is refused rather than read into memory.
constexpr std::size_t k_max_small_input = 16 * 1024 * 1024;
// TLS carries a ticket behind a 16-bit length (RFC 5077 section 3.3,
// RFC 8446 sections 4.2.11 and 4.6.1): anything longer is not one.
constexpr std::size_t k_max_ticket = 65535;
// Enough to tell every kind of input apart.
constexpr std::size_t k_head_size = 4096;
// Capture problems printed per input before they are only counted.
constexpr std::uint64_t k_problems_shown = 20;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// Standard input cannot be rewound after its first bytes were read to
// classify it; this stream gives those bytes back before the rest.
struct PrefixedInput {
  std::vector<std::uint8_t> head;
  std::size_t position = 0;
  std::FILE* rest = nullptr;
};

ssize_t read_prefixed(void* cookie, char* buffer, std::size_t size) {
  auto* in = static_cast<PrefixedInput*>(cookie);
  if (in->position < in->head.size()) {
    const std::size_t n = std::min(size, in->head.size() - in->position);
    std::memcpy(buffer, in->head.data() + in->position, n);
    in->position += n;
    return static_cast<ssize_t>(n);
  }
  const std::size_t n = std::fread(buffer, 1, size, in->rest);
  if (n == 0 && std::ferror(in->rest)) {
    return -1;
  }
  return static_cast<ssize_t>(n);
}

int close_prefixed(void* cookie) {
  delete static_cast<PrefixedInput*>(cookie);
  return 0;
}

stek::Result<void> check_ticket_size(std::size_t size, const std::string& what,
                                     const std::string& name) {
  STEK_ENSURE(size <= k_max_ticket, stek::Errc::parse,
              what + " of " + std::to_string(size) +
                " bytes is over the 65535 bytes a TLS ticket can have (" +
                name + ")");
  return {};
}

// Prints or summarises each report as it comes, so a capture of any size
// streams through in constant memory.
class ReportSink final : public si::CaptureSink {
public:
  ReportSink(si::Inspector& inspector,
             si::Summary* summary,
             Context& ctx,
             std::uint64_t& numbered)
    : m_inspector(inspector), m_summary(summary), m_ctx(ctx),
      m_numbered(numbered) {}

  void sighting(si::Sighting&& sighting) override {
    const auto report = m_inspector.inspect(std::move(sighting));
    ++m_numbered;
    if (m_summary != nullptr) {
      m_summary->add(report);
    } else if (m_ctx.json) {
      // Replace, not throw on, bytes that are not UTF-8 (a file name, say).
      m_ctx.out << ticket_report_json(report).dump(
                     -1, ' ', false, Json::error_handler_t::replace)
                << "\n";
    } else if (!m_ctx.quiet) {
      if (m_numbered > 1) {
        m_ctx.out << "\n";
      }
      print_ticket_report(m_ctx.out, report, m_numbered);
    }
  }

  void problem(const si::CaptureProblem& problem) override {
    ++m_problems;
    if (m_problems > k_problems_shown) {
      return;
    }
    std::string where = m_input;
    if (problem.frame != 0) {
      where += " frame " + std::to_string(problem.frame);
    }
    m_ctx.warn(where + ": " + problem.what);
  }

  void start_input(std::string name) {
    m_input = std::move(name);
    m_problems = 0;
  }
  std::uint64_t problems() const { return m_problems; }

private:
  si::Inspector& m_inspector;
  si::Summary* m_summary;
  Context& m_ctx;
  std::uint64_t& m_numbered;
  std::string m_input;
  std::uint64_t m_problems = 0;
};

struct InputStats {
  std::string input;
  si::InputKind kind = si::InputKind::binary;
  std::optional<si::CaptureStats> capture;
  std::uint64_t tickets = 0;
};

class InspectRun {
public:
  InspectRun(const InspectOptions& options, Context& ctx)
    : m_options(options), m_ctx(ctx) {}

  stek::Result<void> run();

private:
  stek::Result<void> prepare();
  stek::Result<void> read_input(const std::string& name);
  stek::Result<void> read_capture(const std::string& name,
                                  std::FILE* file,
                                  std::vector<std::uint8_t> head,
                                  bool seekable);
  stek::Result<void> read_small(const std::string& name,
                                std::FILE* file,
                                std::vector<std::uint8_t> content);
  void finish_input(InputStats stats);
  void report_end();

  const InspectOptions& m_options;
  Context& m_ctx;
  std::optional<stek::Keystore> m_keystore;
  std::shared_ptr<EpochKeyFetcher> m_fetcher; // derived keystores only
  std::optional<si::Keylog> m_keylog;
  std::unique_ptr<si::RecordDecryptorFactory> m_decryptors;
  std::optional<si::Inspector> m_inspector;
  std::optional<si::Summary> m_summary;
  std::optional<ReportSink> m_sink;
  std::uint64_t m_numbered = 0;
  std::vector<InputStats> m_inputs;
};

stek::Result<void> InspectRun::prepare() {
  std::optional<std::string> sni;
  if (m_options.sni) {
    auto name = stek::normalize_server_name(*m_options.sni);
    if (!name) {
      return stek::fail(stek::Errc::invalid_argument,
                        "invalid --sni \"" + *m_options.sni +
                          "\": " + name.error().message);
    }
    sni = std::move(name).value();
  }
  if (m_options.keystore) {
    STEK_TRY_ASSIGN(auto keystore, load_keystore(*m_options.keystore, m_ctx));
    m_keystore = std::move(keystore);
  }
  if (m_options.keylog) {
    auto keylog = si::Keylog::load(m_options.keylog->string());
    if (!keylog) {
      return stek::fail(keylog.error().code,
                        "cannot read the key log: " + keylog.error().message);
    }
    m_keylog = std::move(keylog).value();
    m_decryptors = si::make_keylog_decryptors(*m_keylog);
  }
  if (m_keystore && m_keystore->is_derived()) {
    // Epoch keys come from the oracle, and only for the ids tickets name.
    m_fetcher = std::make_shared<EpochKeyFetcher>(*m_keystore, m_ctx.now);
    stek::Keystore none;
    none.policy = m_keystore->policy;
    m_inspector.emplace(none, m_ctx.now, std::move(sni),
                        [fetcher = m_fetcher](const stek::KeyId& id) {
                          return fetcher->fetch(id);
                        });
  } else {
    m_inspector.emplace(m_keystore ? &*m_keystore : nullptr, m_ctx.now,
                        std::move(sni));
  }
  if (m_options.summary) {
    m_summary.emplace();
  }
  m_sink.emplace(*m_inspector, m_summary ? &*m_summary : nullptr, m_ctx,
                 m_numbered);
  return {};
}

stek::Result<void> InspectRun::read_input(const std::string& name) {
  FilePtr owned;
  std::FILE* file = stdin;
  const bool is_stdin = name == "-";
  if (!is_stdin) {
    owned.reset(std::fopen(name.c_str(), "rb"));
    if (!owned) {
      return stek::fail(stek::Errc::io, "cannot open " + name + ": " +
                                          std::strerror(errno));
    }
    file = owned.get();
  }
  // Captures are read in large blocks: the default 4 KiB buffer costs a
  // system call per few packets.
  std::setvbuf(file, nullptr, _IOFBF, 1 << 20);
  std::vector<std::uint8_t> head(k_head_size);
  head.resize(std::fread(head.data(), 1, head.size(), file));
  if (std::ferror(file)) {
    return stek::fail(stek::Errc::io, "cannot read " + name + ": " +
                                        std::strerror(errno));
  }
  if (si::looks_like_capture(head)) {
    return read_capture(name, file, std::move(head), !is_stdin);
  }
  return read_small(name, file, std::move(head));
}

stek::Result<void> InspectRun::read_capture(const std::string& name,
                                            std::FILE* file,
                                            std::vector<std::uint8_t> head,
                                            bool seekable) {
  FilePtr prefixed;
  std::FILE* stream = file;
  if (!seekable || std::fseek(file, 0, SEEK_SET) != 0) {
    auto* cookie = new PrefixedInput{std::move(head), 0, file};
    prefixed.reset(fopencookie(cookie, "rb",
                               {read_prefixed, nullptr, nullptr,
                                close_prefixed}));
    if (!prefixed) {
      delete cookie;
      return stek::fail(stek::Errc::io, "cannot read " + name);
    }
    std::setvbuf(prefixed.get(), nullptr, _IOFBF, 1 << 20);
    stream = prefixed.get();
  }
  si::CaptureOptions options;
  options.input_name = name;
  options.decryptors = m_decryptors.get();
  m_sink->start_input(name);
  const auto before = m_numbered;
  auto stats = si::read_capture(stream, options, *m_sink);
  if (!stats) {
    return stek::fail(stats.error().code, stats.error().message);
  }
  if (m_sink->problems() > k_problems_shown) {
    m_ctx.warn(name + ": " + std::to_string(m_sink->problems() - k_problems_shown) +
               " more problems not shown");
  }
  finish_input({name, si::InputKind::capture, *stats, m_numbered - before});
  return {};
}

stek::Result<void> InspectRun::read_small(const std::string& name,
                                          std::FILE* file,
                                          std::vector<std::uint8_t> content) {
  std::uint8_t buffer[65536];
  for (;;) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, file);
    if (n == 0) {
      break;
    }
    if (content.size() + n > k_max_small_input) {
      return stek::fail(stek::Errc::parse,
                        "not a capture, and over the 16 MiB limit of a "
                        "ticket or saved-session input (" + name + ")");
    }
    content.insert(content.end(), buffer, buffer + n);
  }
  if (std::ferror(file)) {
    return stek::fail(stek::Errc::io, "cannot read " + name + ": " +
                                        std::strerror(errno));
  }
  if (content.empty()) {
    return stek::fail(stek::Errc::parse, name + " is empty");
  }
  const auto kind = si::classify_input(content);
  const std::string_view text(reinterpret_cast<const char*>(content.data()),
                              content.size());
  const auto before = m_numbered;
  if (kind == si::InputKind::pem_session) {
    auto sessions = si::read_pem_sessions(text);
    if (!sessions) {
      return stek::fail(sessions.error().code,
                        sessions.error().message + " (" + name + ")");
    }
    std::uint32_t index = 0;
    for (auto& session : *sessions) {
      if (session.ticket.empty()) {
        m_ctx.warn(name + ": session " + std::to_string(index + 1) +
                   " holds no ticket (a session-id session)");
        ++index;
        continue;
      }
      STEK_TRY(check_ticket_size(session.ticket.size(),
                                 "session " + std::to_string(index + 1) +
                                   "'s ticket",
                                 name));
      si::Sighting s;
      s.input = name;
      s.kind = si::MessageKind::pem_session;
      s.index = index++;
      s.tls_version = session.client_view.protocol;
      s.cipher_suite = session.client_view.cipher_suite;
      // The name the client asked for when it got this session: what an
      // SNI-bound server derived the ticket's key for.
      s.sni = session.client_view.sni;
      s.lifetime_hint = session.lifetime_hint;
      s.ticket = std::move(session.ticket);
      m_sink->sighting(std::move(s));
    }
  } else {
    si::Sighting s;
    s.input = name;
    s.kind = si::MessageKind::raw;
    if (kind == si::InputKind::hex || kind == si::InputKind::base64) {
      auto bytes = si::decode_ticket_text(text, kind);
      if (!bytes) {
        return stek::fail(stek::Errc::parse,
                          bytes.error().message + " (" + name + ")");
      }
      s.ticket = std::move(bytes).value();
    } else {
      s.ticket = std::move(content);
    }
    STEK_TRY(check_ticket_size(s.ticket.size(), "ticket", name));
    m_sink->sighting(std::move(s));
  }
  finish_input({name, kind, std::nullopt, m_numbered - before});
  return {};
}

void InspectRun::finish_input(InputStats stats) {
  if (!m_summary && !m_ctx.json && m_ctx.chatty() && stats.capture) {
    const auto& c = *stats.capture;
    m_ctx.out << (m_numbered > 0 ? "\n" : "") << stats.input << ": "
              << c.frames << " frames, " << c.tcp_streams
              << " TCP connections (" << c.tls_streams << " TLS), "
              << stats.tickets << (stats.tickets == 1 ? " ticket" : " tickets");
    if (c.problems != 0) {
      m_ctx.out << ", " << c.problems << " problems";
    }
    m_ctx.out << "\n";
  }
  m_inputs.push_back(std::move(stats));
}

void InspectRun::report_end() {
  if (!m_summary) {
    if (m_numbered == 0 && m_ctx.chatty()) {
      m_ctx.out << "no tickets found\n";
    }
    return;
  }
  if (m_ctx.json) {
    Json doc = summary_json(*m_summary);
    Json inputs = Json::array();
    for (const auto& in : m_inputs) {
      Json j;
      j["input"] = in.input;
      j["kind"] = si::input_kind_name(in.kind);
      j["tickets"] = in.tickets;
      if (in.capture) {
        j["frames"] = in.capture->frames;
        j["bytes"] = in.capture->bytes;
        j["tcp_streams"] = in.capture->tcp_streams;
        j["tls_streams"] = in.capture->tls_streams;
        j["problems"] = in.capture->problems;
        j["evicted_streams"] = in.capture->evicted_streams;
        j["decrypted_records"] = in.capture->decrypted_records;
      }
      inputs.push_back(std::move(j));
    }
    doc["inputs"] = std::move(inputs);
    print_json(m_ctx.out, doc);
    return;
  }
  if (m_ctx.quiet) {
    return;
  }
  for (const auto& in : m_inputs) {
    m_ctx.out << in.input << ": " << si::input_kind_name(in.kind);
    if (in.capture) {
      m_ctx.out << ", " << in.capture->frames << " frames, "
                << in.capture->tcp_streams << " TCP connections ("
                << in.capture->tls_streams << " TLS)";
      if (in.capture->problems != 0) {
        m_ctx.out << ", " << in.capture->problems << " problems";
      }
    }
    m_ctx.out << ", " << in.tickets << (in.tickets == 1 ? " ticket" : " tickets")
              << "\n";
  }
  print_summary(m_ctx.out, *m_summary);
}

stek::Result<void> InspectRun::run() {
  STEK_TRY(prepare());
  std::size_t failed = 0;
  std::optional<stek::Error> first_error;
  for (const auto& name : m_options.inputs) {
    auto result = read_input(name);
    if (!result) {
      // One bad input does not hide what the others hold; the exit status
      // still says something went wrong.
      ++failed;
      m_ctx.err << "stekctl: error: " << result.error().message << "\n";
      if (!first_error) {
        first_error = result.error();
      }
    }
  }
  report_end();
  if (m_fetcher && m_fetcher->error()) {
    // The tickets it left unopened were reported; the exit status says
    // the oracle failed, and the message names it.
    return *m_fetcher->error();
  }
  if (failed == 0) {
    return {};
  }
  if (m_options.inputs.size() == 1) {
    // Already printed; the caller prints the message again, so keep it
    // short and true.
    return stek::fail(first_error->code, "1 input could not be read");
  }
  return stek::fail(first_error->code,
                    std::to_string(failed) + " of " +
                      std::to_string(m_options.inputs.size()) +
                      " inputs could not be read");
}

} // namespace

void register_inspect(CLI::App& app, Dispatch& dispatch) {
  auto o = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand(
    "inspect",
    "Decode captured tickets: format, key id, key, session (pcap included)");
  cmd->add_option("INPUT", o->inputs,
                  "Capture (pcap, pcapng), saved session (PEM), or one "
                  "ticket as hex, base64 or bytes; - for standard input")
    ->required();
  cmd->add_option("--keystore", o->keystore,
                  "Match tickets to this keystore's keys and decrypt them")
    ->type_name("KEYSTORE");
  cmd->add_option("--sni", o->sni,
                  "Server name for SNI-bound keys when the input has no "
                  "ClientHello")
    ->type_name("NAME");
  cmd->add_option("--keylog", o->keylog,
                  "SSLKEYLOGFILE to decrypt TLS 1.3 NewSessionTickets")
    ->type_name("FILE");
  cmd->add_flag("--summary", o->summary,
                "Count tickets per key id and list findings instead of "
                "printing each ticket");
  cmd->callback([o, &dispatch] {
    dispatch.set([o](Context& ctx) { return run_inspect(*o, ctx); });
  });
}

stek::Result<void> run_inspect(const InspectOptions& options, Context& ctx) {
  InspectRun run(options, ctx);
  return run.run();
}

} // namespace stekctl
