// SPDX-License-Identifier: Apache-2.0
#include <stek/io.hpp>

#include "system_error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace stek {

Result<SecretBytes> read_secret_file(const std::filesystem::path& path,
                                     std::size_t max_size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int error = errno;
    STEK_ENSURE(error != ENOENT, Errc::not_found,
                "no such file (" + path.string() + ")");
    return detail::system_error("open", path, error);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return detail::system_error("stat", path, errno);
  }
  STEK_ENSURE(!S_ISDIR(st.st_mode), Errc::io,
              "is a directory, not a file (" + path.string() + ")");
  STEK_ENSURE(S_ISREG(st.st_mode), Errc::io,
              "is not a regular file (" + path.string() + ")");
  STEK_ENSURE(static_cast<std::size_t>(st.st_size) <= max_size, Errc::io,
              "file is larger than the limit of " + std::to_string(max_size) +
                " bytes (" + path.string() + ")");

  SecretBytes contents;
  contents.reserve(static_cast<std::size_t>(st.st_size) + 1);
  std::uint8_t buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int error = errno;
      cleanse(buffer);
      return detail::system_error("read", path, error);
    }
    if (n == 0) {
      break;
    }
    contents.append(std::span<const std::uint8_t>(buffer, static_cast<std::size_t>(n)));
    if (contents.size() > max_size) {
      cleanse(buffer);
      return fail(Errc::io, "file grew past the limit of " +
                              std::to_string(max_size) + " bytes (" +
                              path.string() + ")");
    }
  }
  cleanse(buffer);
  return contents;
}

Result<void> check_private_permissions(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int error = errno;
    STEK_ENSURE(error != ENOENT, Errc::not_found,
                "no such file (" + path.string() + ")");
    return detail::system_error("stat", path, error);
  }
  STEK_ENSURE(S_ISREG(st.st_mode), Errc::io,
              (S_ISDIR(st.st_mode) ? "is a directory, not a file ("
                                   : "is not a regular file (") +
                path.string() + ")");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return fail(Errc::permission,
                std::string("keystore is accessible by group or others (mode ") +
                  mode + "); run 'chmod 600 " + path.string() +
                  "' or pass --allow-insecure-permissions (" + path.string() +
                  ")");
  }
  return {};
}

Result<void> check_private_for_server(const std::filesystem::path& path) {
  auto checked = check_private_permissions(path);
  STEK_ENSURE(checked || checked.error().code != Errc::permission,
              Errc::permission,
              "keystore is accessible by group or others; make it mode "
              "0600 or 0400, owned by the server's user, or turn off "
              "require_private (" + path.string() + ")");
  return checked;
}

} // namespace stek
