// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace stek {

// The kinds of failure the library reports. The CLI maps them to exit codes;
// servers embedding the library can switch on them.
#define STEK_ERRC_TABLE(X)                                                     \
  X(io, "I/O error")                                                           \
  X(parse, "cannot parse input")                                               \
  X(invalid_keystore, "invalid keystore")                                      \
  X(invalid_argument, "invalid argument")                                      \
  X(crypto, "cryptographic operation failed")                                  \
  X(not_found, "not found")                                                    \
  X(ambiguous, "ambiguous")                                                    \
  X(already_exists, "already exists")                                          \
  X(permission, "insecure or denied permissions")                              \
  X(locked, "locked by another process")                                       \
  X(unsupported, "not supported")                                              \
  X(stale, "serving stale data")                                               \
  X(hook_failed, "hook failed")                                                \
  X(oracle, "key oracle failed")

enum class Errc {
#define STEK_ERRC_ENUM(name, text) name,
  STEK_ERRC_TABLE(STEK_ERRC_ENUM)
#undef STEK_ERRC_ENUM
};

// Return the stable name of `code`, e.g. "invalid_keystore".
std::string_view errc_name(Errc code);
// Return the default human description of `code`.
std::string_view errc_description(Errc code);

// A failure: what kind, and a message naming the file, key or field. Messages
// never contain secret bytes.
struct Error {
  Errc code;
  std::string message;
};

// Build an Error; `message` defaults to the description of `code`.
inline Error fail(Errc code, std::string message = {}) {
  if (message.empty()) {
    message = std::string(errc_description(code));
  }
  return Error{code, std::move(message)};
}

// A value or an Error, modelled on tl::expected (std::expected needs C++23).
template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : m_state(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : m_state(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return m_state.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(m_state);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(m_state);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(m_state));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(m_state);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(m_state));
  }

private:
  std::variant<T, Error> m_state;
};

template <> class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Error error) : m_error(std::move(error)) {}

  bool ok() const { return !m_error.has_value(); }
  explicit operator bool() const { return ok(); }

  const Error& error() const& {
    assert(!ok());
    return *m_error;
  }
  Error&& error() && {
    assert(!ok());
    return std::move(*m_error);
  }

private:
  std::optional<Error> m_error;
};

} // namespace stek

// Return the error of `expr` from the enclosing function if it failed.
#define STEK_TRY(expr)                                                         \
  do {                                                                         \
    auto&& stek_try_result_ = (expr);                                          \
    if (!stek_try_result_.ok()) {                                              \
      return std::move(stek_try_result_).error();                              \
    }                                                                          \
  } while (false)

#define STEK_CONCAT_INNER_(a, b) a##b
#define STEK_CONCAT_(a, b) STEK_CONCAT_INNER_(a, b)
#define STEK_TRY_ASSIGN_IMPL_(tmp, lhs, expr)                                  \
  auto tmp = (expr);                                                           \
  if (!tmp.ok()) {                                                             \
    return std::move(tmp).error();                                             \
  }                                                                            \
  lhs = std::move(tmp).value()

// Declare or assign `lhs` from the value of `expr`, or return its error.
#define STEK_TRY_ASSIGN(lhs, expr)                                             \
  STEK_TRY_ASSIGN_IMPL_(STEK_CONCAT_(stek_try_tmp_, __LINE__), lhs, expr)

// Return an Error of `errc` with `message` unless `cond` holds.
#define STEK_ENSURE(cond, errc, message)                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      return ::stek::fail((errc), (message));                                  \
    }                                                                          \
  } while (false)
