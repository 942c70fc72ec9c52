// SPDX-License-Identifier: Apache-2.0
// The whole capture path: libpcap's file reading, link layers, IP, TCP
// reassembly, TLS records and handshake messages, with small limits so that
// eviction and the buffer bounds are reached, and a record decryptor that
// opens every other record so the TLS 1.3 path runs too.
#include <stek/inspect/capture.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace {

struct Discard final : stek::inspect::CaptureSink {
  void sighting(stek::inspect::Sighting&&) override {}
  void problem(const stek::inspect::CaptureProblem&) override {}
};

struct Alternate final : stek::inspect::ServerRecordDecryptor {
  unsigned calls = 0;
  stek::Result<Inner> open(std::span<const std::uint8_t> record) override {
    if (++calls % 2 == 0 || record.size() < 6) {
      return stek::fail(stek::Errc::crypto);
    }
    Inner inner;
    inner.content_type = record.back();
    inner.plaintext.assign(record.begin() + 5, record.end() - 1);
    return inner;
  }
};

struct Factory final : stek::inspect::RecordDecryptorFactory {
  std::unique_ptr<stek::inspect::ServerRecordDecryptor>
  for_connection(std::span<const std::uint8_t, 32> random, std::uint16_t) override {
    if (random[0] % 2 == 0) {
      return nullptr;
    }
    return std::make_unique<Alternate>();
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::FILE* file = fmemopen(const_cast<std::uint8_t*>(data), size, "rb");
  if (file == nullptr) {
    return 0;
  }
  Factory factory;
  stek::inspect::CaptureOptions options;
  options.input_name = "fuzz";
  options.decryptors = &factory;
  options.limits.max_streams = 8;
  options.limits.max_buffered_per_direction = 4096;
  options.limits.idle_timeout = std::chrono::seconds(5);
  Discard sink;
  (void)stek::inspect::read_capture(file, options, sink);
  std::fclose(file);
  return 0;
}
