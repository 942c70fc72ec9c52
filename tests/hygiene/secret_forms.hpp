// SPDX-License-Identifier: Apache-2.0
#pragma once

// The forms a secret can take in printed output, and a scanner that finds
// any of them. The encoders are written here rather than taken from
// libstek so that the scan does not trust the code it checks.
//
// A secret S of n bytes is looked for as:
// - raw bytes;
// - lower- and upper-case hex;
// - standard and URL-safe base64 at each of the 3 byte alignments: S inside
//   a larger blob starts at offset 0, 1 or 2 mod 3 of that blob's encoding,
//   and only the characters whose 6 bits all come from S are fixed, so
//   those are what is searched for (padded or not, they are the same);
// - those texts (and the hex) base64-encoded once more, at each alignment
//   (a Kubernetes Secret carries base64 of files that are themselves
//   base64), and the base64 texts hex-encoded (a file holding base64, such
//   as a keystore, dumped as hex);
// - for secrets over 16 bytes, the same (bar the nesting) for their first
//   and last 16 bytes, so half a key printed is found too (not for whole
//   key blobs, whose first 16 bytes are the public key id).
// Every needle is at least 16 characters of at least 96 bits of secret, so
// ordinary output cannot match one by chance.
//
// Each stream is scanned as it is and again "compacted" (whitespace, colons
// and JSON escapes removed), so a secret wrapped over lines, written as
// colon-separated hex or escaped in a JSON string is found as well.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace stek::hygiene {

using Bytes = std::vector<std::uint8_t>;

inline Bytes bytes_of(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

inline std::string hex_of(std::span<const std::uint8_t> bytes, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (const std::uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

inline std::string base64_of(std::span<const std::uint8_t> bytes,
                             bool url_safe,
                             bool padded) {
  const char* alphabet =
    url_safe ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) |
                            (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    if (rest == 2) {
      v |= std::uint32_t{bytes[i + 1]} << 8;
    }
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) {
      out += alphabet[(v >> 6) & 63];
    }
    if (padded) {
      out += rest == 1 ? "==" : "=";
    }
  }
  return out;
}

// The base64 characters that depend on `secret` alone when it sits at
// `alignment` (0, 1 or 2) bytes past a multiple of 3 in a larger blob,
// whatever comes before or after it.
inline std::string base64_interior(std::span<const std::uint8_t> secret,
                                   std::size_t alignment,
                                   bool url_safe) {
  Bytes blob(alignment, 0);
  blob.insert(blob.end(), secret.begin(), secret.end());
  const std::string encoded = base64_of(blob, url_safe, false);
  const std::size_t first_bit = 8 * alignment;
  const std::size_t end_bit = 8 * blob.size();
  std::string out;
  for (std::size_t c = 0; c < encoded.size(); ++c) {
    if (6 * c >= first_bit && 6 * c + 6 <= end_bit) {
      out += encoded[c];
    }
  }
  return out;
}

// Drop what may be laid between the characters of an encoded secret:
// whitespace, line breaks, colons (hex dumps), JSON escapes.
inline std::string compacted(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      const char next = text[i + 1];
      if (next == 'n' || next == 'r' || next == 't') {
        ++i;
        continue;
      }
      if (next == '/') {
        continue; // "\/" is "/"
      }
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ':') {
      continue;
    }
    out += c;
  }
  return out;
}

// One place a secret turned up.
struct Finding {
  std::string secret; // the secret's label, never its bytes
  std::string form;   // "hex", "base64url at offset 1 mod 3", ...
  std::string layout; // "as printed" or "compacted"
  std::size_t offset = 0;
};

class SecretScanner {
public:
  // The shortest needle; every form of every secret is at least this long.
  static constexpr std::size_t k_min_needle = 16;

  // Look for `secret` (at least 16 bytes), reported as `label`. A secret
  // already known keeps its first label; returns whether it was new. A
  // blob that starts or ends with public bytes (a key file opens with the
  // key's id) is looked for only whole: its halves are not secret.
  bool add(const std::string& label,
           std::span<const std::uint8_t> secret,
           bool whole_only = false) {
    if (secret.size() < k_min_needle) {
      return false;
    }
    if (!m_known.insert(Bytes(secret.begin(), secret.end())).second) {
      return false;
    }
    const std::size_t index = m_labels.size();
    m_labels.push_back(label);
    add_forms(index, secret, "", /*nested=*/true);
    if (secret.size() > 16 && !whole_only) {
      add_forms(index, secret.first(16), ", first 16 bytes", false);
      add_forms(index, secret.last(16), ", last 16 bytes", false);
    }
    return true;
  }

  bool knows(std::span<const std::uint8_t> secret) const {
    return m_known.contains(Bytes(secret.begin(), secret.end()));
  }
  std::size_t secrets() const { return m_labels.size(); }
  std::size_t needles() const { return m_needles.size(); }

  // Every secret found in `text`, once per secret, form and layout.
  std::vector<Finding> scan(std::string_view text) const {
    std::vector<Finding> out;
    scan_layout(text, "as printed", out);
    const std::string compact = compacted(text);
    if (compact != text) {
      scan_layout(compact, "compacted", out);
    }
    return out;
  }

  // `text` with every secret replaced by "<secret>", for messages.
  std::string redacted(std::string_view text) const {
    std::string out(text);
    for (const auto& needle : m_needles) {
      for (auto at = out.find(needle.text); at != std::string::npos;
           at = out.find(needle.text, at)) {
        out.replace(at, needle.text.size(), "<secret>");
      }
    }
    return out;
  }

private:
  struct Needle {
    std::size_t secret;
    std::string form;
    std::string text;
  };

  static std::uint64_t hash_prefix(std::string_view text) {
    std::uint64_t h = 14695981039346656037ull;
    for (std::size_t i = 0; i < k_min_needle; ++i) {
      h = (h ^ static_cast<unsigned char>(text[i])) * 1099511628211ull;
    }
    return h;
  }

  void add_needle(std::size_t secret, std::string form, std::string text) {
    if (text.size() < k_min_needle) {
      return;
    }
    m_by_prefix[hash_prefix(text)].push_back(m_needles.size());
    m_needles.push_back({secret, std::move(form), std::move(text)});
  }

  void add_forms(std::size_t index,
                 std::span<const std::uint8_t> secret,
                 const std::string& part,
                 bool nested) {
    add_needle(index, "raw bytes" + part,
               std::string(secret.begin(), secret.end()));
    const std::string lower = hex_of(secret, false);
    const std::string upper = hex_of(secret, true);
    add_needle(index, "lower-case hex" + part, lower);
    add_needle(index, "upper-case hex" + part, upper);
    std::vector<std::pair<std::string, std::string>> texts = {
      {"lower-case hex", lower}, {"upper-case hex", upper}};
    for (const bool url : {false, true}) {
      for (std::size_t a = 0; a < 3; ++a) {
        const std::string form = std::string(url ? "base64url" : "base64") +
                                 " at offset " + std::to_string(a) + " mod 3";
        auto text = base64_interior(secret, a, url);
        add_needle(index, form + part, text);
        texts.emplace_back(form, std::move(text));
      }
    }
    if (!nested) {
      return;
    }
    for (const auto& [inner_form, inner] : texts) {
      for (std::size_t a = 0; a < 3; ++a) {
        add_needle(index,
                   "base64 (offset " + std::to_string(a) + " mod 3) of its " +
                     inner_form,
                   base64_interior(bytes_of(inner), a, false));
      }
      if (inner_form.starts_with("base64")) {
        add_needle(index, "lower-case hex of its " + inner_form,
                   hex_of(bytes_of(inner), false));
        add_needle(index, "upper-case hex of its " + inner_form,
                   hex_of(bytes_of(inner), true));
      }
    }
  }

  void scan_layout(std::string_view text,
                   const std::string& layout,
                   std::vector<Finding>& out) const {
    if (text.size() < k_min_needle) {
      return;
    }
    std::set<std::pair<std::size_t, std::string>> reported;
    for (std::size_t i = 0; i + k_min_needle <= text.size(); ++i) {
      const auto bucket = m_by_prefix.find(hash_prefix(text.substr(i)));
      if (bucket == m_by_prefix.end()) {
        continue;
      }
      for (const std::size_t n : bucket->second) {
        const Needle& needle = m_needles[n];
        if (text.substr(i).starts_with(needle.text) &&
            reported.insert({needle.secret, needle.form}).second) {
          out.push_back({m_labels[needle.secret], needle.form, layout, i});
        }
      }
    }
  }

  std::set<Bytes> m_known;
  std::vector<std::string> m_labels;
  std::vector<Needle> m_needles;
  std::unordered_map<std::uint64_t, std::vector<std::size_t>> m_by_prefix;
};

} // namespace stek::hygiene
