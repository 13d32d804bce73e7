#pragma once
// A fresh directory under $TMPDIR, removed with everything in it when the test ends.

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace kazoo_bridge::test {

class temp_dir {
 public:
  temp_dir() {
    auto base = std::filesystem::temp_directory_path() / "kazoo-bridge-test-XXXXXX";
    std::string tmpl = base.string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace kazoo_bridge::test
