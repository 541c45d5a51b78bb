// A private directory for one test: created with mkdtemp, removed (with
// everything in it) when the object goes away.
#pragma once

#include <string>

namespace comet::test {

class TempDir {
 public:
  // Creates $TMPDIR/comet-itest.XXXXXX (or /tmp when TMPDIR is unset). Kept
  // short on purpose: Unix socket paths inside it must fit in sun_path.
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string file(const std::string& name) const;
  // Creates path()/name (and parents) and returns it.
  std::string subdir(const std::string& name) const;

  // Keep the directory after the test (to read logs); also enabled by the
  // environment variable COMET_KEEP_TMP=1.
  void keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

// Whole-file helpers (binary-safe).
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);

}  // namespace comet::test
