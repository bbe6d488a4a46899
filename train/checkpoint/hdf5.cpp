// RAII HDF5 layer: see hdf5.h. Each public function checks every HDF5 status and turns a failure
// into "hdf5: <what> '<object>' in '<file>': <innermost HDF5 reason>".
#include "train/checkpoint/hdf5.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <stdexcept>

namespace sg {

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

// Throws for a failed HDF5 call, with the library's reason appended.
[[noreturn]] void fail(const std::string& what, const std::string& file) {
  std::string msg = "hdf5: " + what + " in '" + file + "'";
  const std::string reason = hdf5_error_reason();
  if (!reason.empty()) msg += ": " + reason;
  if (reason.find("checksum") != std::string::npos) msg += " (the file is damaged)";
  throw std::runtime_error(one_line(msg));
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

// Throws for a problem this layer detected itself (no HDF5 reason to add).
[[noreturn]] void fail_plain(const std::string& what, const std::string& file) {
  H5Eclear2(H5E_DEFAULT);
  throw std::runtime_error(one_line("hdf5: " + what + " in '" + file + "'"));
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

std::string normalize(const std::string& path) {
  std::string out;
  for (const auto& p : split_path(path)) out += "/" + p;
  return out.empty() ? "/" : out;
}

std::vector<hsize_t> to_dims(const Shape& shape, const std::string& path) {
  std::vector<hsize_t> dims;
  for (int64_t d : shape) {
    if (d < 0)
      throw std::invalid_argument("hdf5: negative dimension in shape " + shape_str(shape) +
                                  " for '" + path + "'");
    dims.push_back(static_cast<hsize_t>(d));
  }
  return dims;
}

Handle make_space(const Shape& shape, const std::string& path) {
  if (shape.empty()) return Handle(H5Screate(H5S_SCALAR), Handle::Kind::dataspace);
  const auto dims = to_dims(shape, path);
  return Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                Handle::Kind::dataspace);
}

// The largest chunk a dataset is stored in: HDF5 filters a whole chunk at once, so a read or write
// holds one chunk in memory besides the caller's buffer.
constexpr size_t kMaxChunkBytes = size_t{16} << 20;
// Strings are read and written this many bytes of rows at a time.
constexpr size_t kStringBlockBytes = size_t{1} << 20;
// No chunk deflates to more than about 1032 times its stored size.
constexpr hsize_t kMaxInflation = 1100;

// Sets an object's creation properties: no modification times, and its links (a group's) and
// attributes kept in its object header, up to 65535 of each, rather than in "dense" storage
// (a B-tree and a heap, which free and move blocks as they grow).
bool compact_storage(hid_t ocpl) {
  if (H5Pset_obj_track_times(ocpl, 0) < 0 || H5Pset_attr_phase_change(ocpl, 65535, 65535) < 0)
    return false;
  return H5Pisa_class(ocpl, H5P_GROUP_CREATE) <= 0 ||  // a file creation list is one too
         H5Pset_link_phase_change(ocpl, 65535, 65535) >= 0;
}

// Creation properties under which every byte of a dataset's values is checksummed. Values live in
// chunks that carry a Fletcher32 checksum (chunks of at most kMaxChunkBytes, split along the
// leading dimensions; `deflate` compresses them first). A scalar, which cannot be chunked, and an
// empty dataset are stored compact: inside the object header, which has its own checksum.
Handle checksummed_layout(const Shape& shape, size_t elem_size, bool deflate) {
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), Handle::Kind::plist);
  // A header just large enough for the messages (by default HDF5 leaves room for attributes,
  // about 170 bytes a dataset; datasets here have none).
  if (!dcpl.valid() || !compact_storage(dcpl.get()) || H5Pset_dset_no_attrs_hint(dcpl.get(), 1) < 0)
    return Handle();
  if (shape.empty() || shape_numel(shape) == 0)
    return H5Pset_layout(dcpl.get(), H5D_COMPACT) < 0 ? Handle() : std::move(dcpl);
  std::vector<hsize_t> chunk(shape.begin(), shape.end());
  auto bytes = [&] {
    size_t b = elem_size;
    for (hsize_t c : chunk) b *= static_cast<size_t>(c);
    return b;
  };
  for (size_t i = 0; i < chunk.size() && bytes() > kMaxChunkBytes; ++i) {
    const size_t inner = bytes() / static_cast<size_t>(chunk[i]);
    chunk[i] = std::max<hsize_t>(1, kMaxChunkBytes / inner);
  }
  if (H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()) < 0 ||
      (deflate && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0 && H5Pset_deflate(dcpl.get(), 1) < 0) ||
      H5Pset_fletcher32(dcpl.get()) < 0)
    return Handle();
  return dcpl;
}

// Fixed-length UTF-8 strings of `size` bytes, NUL-padded (h5py reads them as bytes). Unlike
// variable-length strings, whose characters live in HDF5's global heap, which has no checksum,
// their bytes are stored with the dataset or attribute and checksummed there.
Handle make_fixed_utf8(size_t size) {
  Handle t(H5Tcopy(H5T_C_S1), Handle::Kind::datatype);
  if (!t.valid() || H5Tset_size(t.get(), std::max<size_t>(size, 1)) < 0 ||
      H5Tset_strpad(t.get(), H5T_STR_NULLPAD) < 0 || H5Tset_cset(t.get(), H5T_CSET_UTF8) < 0)
    return Handle();
  return t;
}

// Reads `count` strings from a dataset or attribute whose stored string type is `stored`.
// `read(mem_type, buffer)` performs the H5Dread / H5Aread.
template <class ReadFn>
bool read_string_values(hid_t stored, size_t count, std::vector<std::string>& out, ReadFn read) {
  out.clear();
  if (count == 0) return true;
  const htri_t vlen = H5Tis_variable_str(stored);
  if (vlen < 0) return false;
  if (vlen > 0) {
    Handle mem(H5Tcopy(H5T_C_S1), Handle::Kind::datatype);
    if (!mem.valid() || H5Tset_size(mem.get(), H5T_VARIABLE) < 0 ||
        H5Tset_cset(mem.get(), H5Tget_cset(stored)) < 0)
      return false;
    std::vector<char*> ptrs(count, nullptr);
    if (read(mem.get(), ptrs.data()) < 0) return false;
    for (char* p : ptrs) {
      out.emplace_back(p != nullptr ? p : "");
      if (p != nullptr) H5free_memory(p);
    }
    return true;
  }
  const size_t size = H5Tget_size(stored);
  if (size == 0) return false;
  Handle mem(H5Tcopy(stored), Handle::Kind::datatype);
  if (!mem.valid()) return false;
  std::vector<char> buf(size * count);
  if (read(mem.get(), buf.data()) < 0) return false;
  for (size_t i = 0; i < count; ++i) {
    const char* s = buf.data() + i * size;
    size_t n = 0;
    while (n < size && s[n] != '\0') ++n;
    out.emplace_back(s, n);
  }
  return true;
}

}  // namespace

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

// ---------------------------------------------------------------- numeric datasets

void H5File::write_raw(const std::string& path, hid_t file_type, hid_t mem_type, const void* data,
                       const Shape& shape) {
  const std::string p = normalize(path);
  if (p == "/") throw std::invalid_argument("hdf5: a dataset cannot be the root group");
  if (exists(p)) fail_plain("dataset '" + p + "' already exists", path_);
  create_group(p.substr(0, p.rfind('/')));
  Handle space = make_space(shape, p);
  if (!space.valid()) fail("cannot create a dataspace for '" + p + "'", path_);
  Handle dcpl = checksummed_layout(shape, H5Tget_size(file_type), false);
  if (!dcpl.valid()) fail("cannot create '" + p + "'", path_);
  Handle ds(H5Dcreate2(file_.get(), p.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(),
                       H5P_DEFAULT),
            Handle::Kind::dataset);
  if (!ds.valid()) fail("cannot create dataset '" + p + "'", path_);
  if (shape_numel(shape) > 0 &&
      H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail("cannot write dataset '" + p + "'", path_);
}

void H5File::write(const std::string& path, const float* data, const Shape& shape) {
  write_raw(path, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data, shape);
}
void H5File::write(const std::string& path, const double* data, const Shape& shape) {
  write_raw(path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data, shape);
}
void H5File::write(const std::string& path, const int64_t* data, const Shape& shape) {
  write_raw(path, H5T_STD_I64LE, H5T_NATIVE_INT64, data, shape);
}
void H5File::write(const std::string& path, const uint64_t* data, const Shape& shape) {
  write_raw(path, H5T_STD_U64LE, H5T_NATIVE_UINT64, data, shape);
}

Handle H5File::open_dataset(const std::string& path) const {
  const std::string p = normalize(path);
  if (!exists(p)) fail_plain("no dataset '" + p + "'", path_);
  Handle ds(H5Dopen2(file_.get(), p.c_str(), H5P_DEFAULT), Handle::Kind::dataset);
  if (!ds.valid()) fail("cannot open dataset '" + p + "'", path_);
  return ds;
}

namespace {

// Reads a dataset's dimensions into `shape`; false on an HDF5 failure.
bool dataset_shape(hid_t ds, Shape& shape) {
  Handle space(H5Dget_space(ds), Handle::Kind::dataspace);
  const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0) return false;
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0) return false;
  shape.clear();
  for (hsize_t d : dims) shape.push_back(static_cast<int64_t>(d));
  return true;
}

// An integer or floating-point type of at most 8 bytes: a corrupt file can declare a "float" of
// gigabytes per element, and HDF5 then allocates its conversion buffers by that size.
bool is_numeric(hid_t ds) {
  Handle type(H5Dget_type(ds), Handle::Kind::datatype);
  const H5T_class_t cls = type.valid() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
  const size_t size = type.valid() ? H5Tget_size(type.get()) : 0;
  return (cls == H5T_INTEGER || cls == H5T_FLOAT) && size >= 1 && size <= 8;
}

}  // namespace

Shape H5File::shape_of(const std::string& path) const {
  Handle ds = open_dataset(path);
  return shape_of(ds.get(), path);
}

Shape H5File::shape_of(hid_t ds, const std::string& path) const {
  Shape shape;
  if (!dataset_shape(ds, shape)) fail("cannot read the shape of '" + normalize(path) + "'", path_);
  return shape;
}

template <class T>
H5Array<T> H5File::read_as(const std::string& path, hid_t mem_type) const {
  Handle ds = open_dataset(path);
  H5Array<T> out;
  out.shape = shape_of(ds.get(), path);
  if (!is_numeric(ds.get())) fail_plain("dataset '" + normalize(path) + "' is not numeric", path_);
  out.data.resize(static_cast<size_t>(shape_numel(out.shape)));
  if (!out.data.empty() &&
      H5Dread(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data.data()) < 0)
    fail("cannot read dataset '" + normalize(path) + "'", path_);
  return out;
}

H5Array<float> H5File::read_f32(const std::string& path) const {
  return read_as<float>(path, H5T_NATIVE_FLOAT);
}
H5Array<double> H5File::read_f64(const std::string& path) const {
  return read_as<double>(path, H5T_NATIVE_DOUBLE);
}
H5Array<int64_t> H5File::read_i64(const std::string& path) const {
  return read_as<int64_t>(path, H5T_NATIVE_INT64);
}
H5Array<uint64_t> H5File::read_u64(const std::string& path) const {
  return read_as<uint64_t>(path, H5T_NATIVE_UINT64);
}

void H5File::write_bytes(const std::string& path, std::string_view bytes) {
  write_raw(path, H5T_STD_U8LE, H5T_NATIVE_UINT8, bytes.data(),
            Shape{static_cast<int64_t>(bytes.size())});
}

std::string H5File::read_bytes(const std::string& path) const {
  const auto a = read_as<uint8_t>(path, H5T_NATIVE_UINT8);
  if (a.shape.size() != 1)
    fail_plain("dataset '" + normalize(path) + "' is not a 1-D byte string", path_);
  return std::string(a.data.begin(), a.data.end());
}

void H5File::read_into(const std::string& path, float* out, int64_t numel) const {
  Handle ds = open_dataset(path);
  const Shape shape = shape_of(ds.get(), path);
  if (shape_numel(shape) != numel)
    fail_plain("dataset '" + normalize(path) + "' has shape " + shape_str(shape) + ", expected " +
                   std::to_string(numel) + " elements",
               path_);
  if (!is_numeric(ds.get())) fail_plain("dataset '" + normalize(path) + "' is not numeric", path_);
  if (numel > 0 && H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    fail("cannot read dataset '" + normalize(path) + "'", path_);
}

// ---------------------------------------------------------------- string datasets

void H5File::write_strings(const std::string& path, const std::vector<std::string>& values) {
  const std::string p = normalize(path);
  if (exists(p)) fail_plain("dataset '" + p + "' already exists", path_);
  create_group(p.substr(0, p.rfind('/')));
  size_t size = 1;
  for (const auto& v : values) size = std::max(size, v.size());
  const hsize_t count = values.size();
  Handle type = make_fixed_utf8(size);
  // Chunks of about kStringBlockBytes, deflated (the padding of short strings next to a long one
  // compresses to almost nothing), each with its checksum.
  const int64_t rows = static_cast<int64_t>(std::max<size_t>(1, kStringBlockBytes / size));
  Handle dcpl =
      checksummed_layout({std::min<int64_t>(rows, static_cast<int64_t>(count))}, size, true);
  Handle space = make_space({static_cast<int64_t>(count)}, p);
  if (!type.valid() || !dcpl.valid() || !space.valid()) fail("cannot create '" + p + "'", path_);
  Handle ds(H5Dcreate2(file_.get(), p.c_str(), type.get(), space.get(), H5P_DEFAULT, dcpl.get(),
                       H5P_DEFAULT),
            Handle::Kind::dataset);
  if (!ds.valid()) fail("cannot create dataset '" + p + "'", path_);
  std::vector<char> block;
  for (hsize_t begin = 0; begin < count; begin += static_cast<hsize_t>(rows)) {
    const hsize_t n = std::min<hsize_t>(static_cast<hsize_t>(rows), count - begin);
    block.assign(n * size, '\0');
    for (hsize_t i = 0; i < n; ++i) {
      const std::string& v = values[begin + i];
      std::copy(v.begin(), v.end(), block.begin() + static_cast<std::ptrdiff_t>(i * size));
    }
    Handle mem(H5Screate_simple(1, &n, nullptr), Handle::Kind::dataspace);
    if (!mem.valid() ||
        H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &begin, nullptr, &n, nullptr) < 0 ||
        H5Dwrite(ds.get(), type.get(), mem.get(), space.get(), H5P_DEFAULT, block.data()) < 0)
      fail("cannot write dataset '" + p + "'", path_);
  }
}

std::vector<std::string> H5File::read_strings(const std::string& path) const {
  const std::string p = normalize(path);
  Handle ds = open_dataset(p);
  const size_t count = static_cast<size_t>(shape_numel(shape_of(ds.get(), p)));
  Handle type(H5Dget_type(ds.get()), Handle::Kind::datatype);
  if (!type.valid() || H5Tget_class(type.get()) != H5T_STRING)
    fail_plain("dataset '" + p + "' does not hold strings", path_);
  // Each string takes at least a byte of the file (or of what a compressed chunk inflates to): a
  // corrupt dataspace or type claiming 2^60 of them, or strings of gigabytes, would otherwise
  // size the buffers below.
  const htri_t vlen = H5Tis_variable_str(type.get());
  const size_t size = vlen > 0 ? 1 : H5Tget_size(type.get());
  if (vlen < 0 || size == 0) fail("cannot read the type of '" + p + "'", path_);
  hsize_t file_size = 0;
  if (H5Fget_filesize(file_.get(), &file_size) < 0 || count > file_size ||
      size > kMaxInflation * file_size || count > kMaxInflation * file_size / size)
    fail_plain("dataset '" + p + "' claims " + std::to_string(count) + " strings of " +
                   std::to_string(size) + " bytes, more than the file holds",
               path_);
  std::vector<std::string> out;
  if (vlen > 0) {  // checkpoints of format version 1
    const bool ok = read_string_values(type.get(), count, out, [&](hid_t mem, void* buf) {
      return H5Dread(ds.get(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    });
    if (!ok) fail("cannot read dataset '" + p + "'", path_);
    return out;
  }
  // Fixed-length strings, a block of rows at a time.
  Handle space(H5Dget_space(ds.get()), Handle::Kind::dataspace);
  const hsize_t rows = std::max<size_t>(1, kStringBlockBytes / size);
  out.reserve(count);
  std::vector<std::string> block;
  for (hsize_t begin = 0; begin < count; begin += rows) {
    const hsize_t n = std::min<hsize_t>(rows, count - begin);
    Handle mem(H5Screate_simple(1, &n, nullptr), Handle::Kind::dataspace);
    const bool ok =
        space.valid() && mem.valid() &&
        H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &begin, nullptr, &n, nullptr) >= 0 &&
        read_string_values(type.get(), n, block, [&](hid_t mem_type, void* buf) {
          return H5Dread(ds.get(), mem_type, mem.get(), space.get(), H5P_DEFAULT, buf);
        });
    if (!ok) fail("cannot read dataset '" + p + "'", path_);
    for (auto& v : block) out.push_back(std::move(v));
  }
  return out;
}

// ---------------------------------------------------------------- attributes

void H5File::set_attr_raw(const std::string& object, const std::string& name, hid_t file_type,
                          hid_t mem_type, const void* value) {
  const std::string where = "attribute '" + name + "' of '" + normalize(object) + "'";
  Handle obj = open_object(object);
  const htri_t e = H5Aexists(obj.get(), name.c_str());
  if (e < 0 || (e > 0 && H5Adelete(obj.get(), name.c_str()) < 0))
    fail("cannot replace " + where, path_);
  Handle space(H5Screate(H5S_SCALAR), Handle::Kind::dataspace);
  Handle attr(H5Acreate2(obj.get(), name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
              Handle::Kind::attribute);
  if (!attr.valid()) fail("cannot create " + where, path_);
  if (H5Awrite(attr.get(), mem_type, value) < 0) fail("cannot write " + where, path_);
}

void H5File::set_attr_str(const std::string& object, const std::string& name,
                          const std::string& v) {
  Handle type = make_fixed_utf8(v.size());
  if (!type.valid()) fail("cannot create a string type", path_);
  std::string padded = v;
  padded.resize(std::max<size_t>(v.size(), 1), '\0');
  set_attr_raw(object, name, type.get(), type.get(), padded.data());
}

void H5File::set_attr_i64(const std::string& object, const std::string& name, int64_t v) {
  set_attr_raw(object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

void H5File::set_attr_f64(const std::string& object, const std::string& name, double v) {
  set_attr_raw(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

bool H5File::has_attr(const std::string& object, const std::string& name) const {
  if (!exists(object)) return false;
  Handle obj = open_object(object);
  const htri_t e = H5Aexists(obj.get(), name.c_str());
  if (e < 0) fail("cannot look up attribute '" + name + "' of '" + normalize(object) + "'", path_);
  return e > 0;
}

Handle H5File::open_attr(const std::string& object, const std::string& name) const {
  if (!has_attr(object, name))
    fail_plain("no attribute '" + name + "' on '" + normalize(object) + "'", path_);
  Handle obj = open_object(object);
  Handle attr(H5Aopen(obj.get(), name.c_str(), H5P_DEFAULT), Handle::Kind::attribute);
  if (!attr.valid())
    fail("cannot open attribute '" + name + "' of '" + normalize(object) + "'", path_);
  Handle space(H5Aget_space(attr.get()), Handle::Kind::dataspace);
  if (!space.valid() || H5Sget_simple_extent_npoints(space.get()) != 1)
    fail_plain("attribute '" + name + "' of '" + normalize(object) + "' is not a single value",
               path_);
  return attr;
}

std::string H5File::attr_str(const std::string& object, const std::string& name) const {
  const std::string where = "attribute '" + name + "' of '" + normalize(object) + "'";
  Handle attr = open_attr(object, name);
  Handle type(H5Aget_type(attr.get()), Handle::Kind::datatype);
  if (!type.valid() || H5Tget_class(type.get()) != H5T_STRING)
    fail_plain(where + " is not a string", path_);
  // An attribute's value is stored uncompressed: a longer one is a corrupt type.
  hsize_t file_size = 0;
  if (H5Fget_filesize(file_.get(), &file_size) < 0 || H5Tget_size(type.get()) > file_size)
    fail_plain(where + " claims more bytes than the file holds", path_);
  std::vector<std::string> out;
  const bool ok = read_string_values(
      type.get(), 1, out, [&](hid_t mem, void* buf) { return H5Aread(attr.get(), mem, buf); });
  if (!ok) fail("cannot read " + where, path_);
  return out[0];
}

int64_t H5File::attr_i64(const std::string& object, const std::string& name) const {
  const std::string where = "attribute '" + name + "' of '" + normalize(object) + "'";
  Handle attr = open_attr(object, name);
  Handle type(H5Aget_type(attr.get()), Handle::Kind::datatype);
  if (!type.valid() || H5Tget_class(type.get()) != H5T_INTEGER || H5Tget_size(type.get()) > 8)
    fail_plain(where + " is not an integer", path_);
  int64_t v = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_INT64, &v) < 0) fail("cannot read " + where, path_);
  return v;
}

double H5File::attr_f64(const std::string& object, const std::string& name) const {
  const std::string where = "attribute '" + name + "' of '" + normalize(object) + "'";
  Handle attr = open_attr(object, name);
  Handle type(H5Aget_type(attr.get()), Handle::Kind::datatype);
  const H5T_class_t cls = type.valid() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
  if ((cls != H5T_FLOAT && cls != H5T_INTEGER) || H5Tget_size(type.get()) > 8)
    fail_plain(where + " is not a number", path_);
  double v = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v) < 0) fail("cannot read " + where, path_);
  return v;
}

std::vector<std::string> H5File::attr_names(const std::string& object) const {
  Handle obj = open_object(object);
  std::vector<std::string> names;
  hsize_t idx = 0;
  const herr_t s = H5Aiterate2(
      obj.get(), H5_INDEX_NAME, H5_ITER_INC, &idx,
      [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
        return 0;
      },
      &names);
  if (s < 0) fail("cannot list the attributes of '" + normalize(object) + "'", path_);
  return names;
}

}  // namespace sg
