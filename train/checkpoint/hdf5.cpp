// RAII HDF5 layer: see hdf5.h. Each public function checks every HDF5 status and turns a failure
// into "hdf5: <what> '<object>' in '<file>': <innermost HDF5 reason>". This file holds the error
// handling, Handle, files, and groups and links; datasets and attributes are in hdf5_datasets.cpp.
#include "train/checkpoint/hdf5.h"

#include <filesystem>
#include <mutex>
#include <stdexcept>

#include "train/checkpoint/hdf5_internal.h"

namespace sg {

using h5::compact_storage;
using h5::fail;
using h5::fail_plain;
using h5::normalize;

// The library prints its error stack to stderr on every failure unless told not to. It is also
// kept from closing files at exit: every file here is closed by its Handle, and HDF5 1.10's exit
// handler crashes on a file whose close already failed (a save on a full disk).
void silence_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

std::string hdf5_error_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
        auto* s = static_cast<std::string*>(out);
        if (e->desc != nullptr && e->desc[0] != '\0') {
          *s = e->desc;
        } else {
          char buf[256];
          if (H5Eget_msg(e->min_num, nullptr, buf, sizeof buf) > 0) *s = buf;
        }
        return 0;
      },
      &reason);
  H5Eclear2(H5E_DEFAULT);
  // A failed read or write is described with a timestamp, buffer addresses and offsets; keep
  // "file write failed: No space left on device".
  const std::string marker = "error message = '";
  const size_t m = reason.find(marker);
  if (m != std::string::npos) {
    const size_t begin = m + marker.size(), end = reason.find('\'', begin);
    reason = reason.substr(0, reason.find(':')) + ": " + reason.substr(begin, end - begin);
  }
  return reason;
}

namespace {

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

// Throws for a failed file-level call: "hdf5: cannot open 'f.h5': <reason>".
[[noreturn]] void fail_file(const std::string& what, const std::string& file) {
  std::string msg = "hdf5: " + what + " '" + file + "'";
  const std::string reason = hdf5_error_reason();
  if (!reason.empty()) msg += ": " + reason;
  if (reason == "file signature not found") msg += " (not an HDF5 file)";
  if (reason.find("checksum") != std::string::npos) msg += " (the file is damaged)";
  throw std::runtime_error(one_line(msg));
}

// "/a/b.c/d" and "a/b.c/d" -> {"a", "b.c", "d"}; "" and "/" -> {}.
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = (!path.empty() && path[0] == '/') ? 1 : 0;
  while (i < path.size()) {
    const size_t j = path.find('/', i);
    const size_t end = j == std::string::npos ? path.size() : j;
    if (end == i) throw std::invalid_argument("hdf5: empty component in path '" + path + "'");
    parts.push_back(path.substr(i, end - i));
    i = end + 1;
    if (j != std::string::npos && i == path.size())
      throw std::invalid_argument("hdf5: trailing '/' in path '" + path + "'");
  }
  return parts;
}

}  // namespace

namespace h5 {

// Throws for a failed HDF5 call, with the library's reason appended.
[[noreturn]] void fail(const std::string& what, const std::string& file) {
  std::string msg = "hdf5: " + what + " in '" + file + "'";
  const std::string reason = hdf5_error_reason();
  if (!reason.empty()) msg += ": " + reason;
  if (reason.find("checksum") != std::string::npos) msg += " (the file is damaged)";
  throw std::runtime_error(one_line(msg));
}

// Throws for a problem this layer detected itself (no HDF5 reason to add).
[[noreturn]] void fail_plain(const std::string& what, const std::string& file) {
  H5Eclear2(H5E_DEFAULT);
  throw std::runtime_error(one_line("hdf5: " + what + " in '" + file + "'"));
}

std::string normalize(const std::string& path) {
  std::string out;
  for (const auto& p : split_path(path)) out += "/" + p;
  return out.empty() ? "/" : out;
}

// Sets an object's creation properties: no modification times, and its links (a group's) and
// attributes kept in its object header, up to 65535 of each, rather than in "dense" storage
// (a B-tree and a heap, which free and move blocks as they grow).
bool compact_storage(hid_t ocpl) {
  if (H5Pset_obj_track_times(ocpl, 0) < 0 || H5Pset_attr_phase_change(ocpl, 65535, 65535) < 0)
    return false;
  return H5Pisa_class(ocpl, H5P_GROUP_CREATE) <= 0 ||  // a file creation list is one too
         H5Pset_link_phase_change(ocpl, 65535, 65535) >= 0;
}

}  // namespace h5

// ---------------------------------------------------------------- Handle

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    kind_ = o.kind_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

herr_t Handle::reset() {
  if (id_ < 0) return 0;
  herr_t s = 0;
  switch (kind_) {
    case Kind::file:
      s = H5Fclose(id_);
      break;
    case Kind::group:
      s = H5Gclose(id_);
      break;
    case Kind::dataset:
      s = H5Dclose(id_);
      break;
    case Kind::dataspace:
      s = H5Sclose(id_);
      break;
    case Kind::datatype:
      s = H5Tclose(id_);
      break;
    case Kind::attribute:
      s = H5Aclose(id_);
      break;
    case Kind::plist:
      s = H5Pclose(id_);
      break;
    case Kind::object:
      s = H5Oclose(id_);
      break;
  }
  id_ = H5I_INVALID_HID;
  return s;
}

// ---------------------------------------------------------------- files

H5File H5File::create(const std::string& path) {
  silence_hdf5();
  // The 1.10 file format: superblock version 3 and version 2 object headers, each with a
  // checksum that every read verifies. Both bounds pinned, so that a newer libhdf5 writes the
  // same format. No modification times: the same contents give the same bytes.
  // And every byte of the file belongs to something that is read and checked: the allocator takes
  // each block at the end of the file (no aggregation blocks whose unused tails would stay behind)
  // and nothing is ever freed, since links and attributes stay in the object headers (see
  // compact_storage) instead of B-trees and heaps that move blocks as they grow. Aggregation is
  // switched off in the access properties, which are not stored in the file: a file space
  // strategy in the creation properties would be, in a superblock extension whose object header
  // HDF5 always stamps with the time of the save.
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), Handle::Kind::plist);
  Handle fcpl(H5Pcreate(H5P_FILE_CREATE), Handle::Kind::plist);
  if (!fapl.valid() || !fcpl.valid() ||
      H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_V110) < 0 ||
      H5Pset_meta_block_size(fapl.get(), 0) < 0 ||
      H5Pset_small_data_block_size(fapl.get(), 0) < 0 || !compact_storage(fcpl.get()))
    fail_file("cannot set up", path);
  Handle f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), Handle::Kind::file);
  if (!f.valid()) fail_file("cannot create", path);
  return H5File(std::move(f), path);
}

H5File H5File::open_read(const std::string& path) {
  silence_hdf5();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail_file("no such file", path);
  if (std::filesystem::is_directory(path, ec)) fail_file("not a file:", path);
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), Handle::Kind::file);
  if (!f.valid()) fail_file("cannot open", path);
  return H5File(std::move(f), path);
}

void H5File::flush() {
  if (H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0) fail_file("cannot flush", path_);
}

void H5File::close() {
  if (file_.valid() && file_.reset() < 0) fail_file("cannot close", path_);
}

// ---------------------------------------------------------------- groups and links

void H5File::create_group(const std::string& path) {
  std::string prefix;
  for (const auto& part : split_path(path)) {
    prefix += "/" + part;
    const htri_t e = H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT);
    if (e < 0) fail("cannot look up '" + prefix + "'", path_);
    if (e > 0) continue;
    Handle gcpl(H5Pcreate(H5P_GROUP_CREATE), Handle::Kind::plist);
    if (!gcpl.valid() || !compact_storage(gcpl.get()))
      fail("cannot create group '" + prefix + "'", path_);
    Handle g(H5Gcreate2(file_.get(), prefix.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT),
             Handle::Kind::group);
    if (!g.valid()) fail("cannot create group '" + prefix + "'", path_);
  }
}

bool H5File::exists(const std::string& path) const {
  std::string prefix;
  for (const auto& part : split_path(path)) {
    prefix += "/" + part;
    if (H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
  }
  return true;
}

std::vector<std::string> H5File::list(const std::string& group) const {
  const std::string g_path = normalize(group);
  if (!exists(g_path)) fail_plain("no group '" + g_path + "'", path_);
  Handle g(H5Gopen2(file_.get(), g_path.c_str(), H5P_DEFAULT), Handle::Kind::group);
  if (!g.valid()) fail("cannot open group '" + g_path + "'", path_);
  H5G_info_t info;
  if (H5Gget_info(g.get(), &info) < 0) fail("cannot list group '" + g_path + "'", path_);
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n =
        H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) fail("cannot list group '" + g_path + "'", path_);
    std::string name(static_cast<size_t>(n) + 1, '\0');
    if (H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                           H5P_DEFAULT) < 0)
      fail("cannot list group '" + g_path + "'", path_);
    name.resize(static_cast<size_t>(n));
    names.push_back(std::move(name));
  }
  return names;
}

Handle H5File::open_object(const std::string& path) const {
  const std::string p = normalize(path);
  if (!exists(p)) fail_plain("no object '" + p + "'", path_);
  Handle o(H5Oopen(file_.get(), p.c_str(), H5P_DEFAULT), Handle::Kind::object);
  if (!o.valid()) fail("cannot open '" + p + "'", path_);
  return o;
}
}  // namespace sg
