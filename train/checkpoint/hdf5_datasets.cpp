// H5File's datasets and attributes (hdf5.h): numeric, byte and string datasets, stored in
// checksummed layouts, and attributes on any object. Reads check the sizes a damaged file claims
// before they allocate. Files, groups and the error handling are in hdf5.cpp.
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "train/checkpoint/hdf5.h"
#include "train/checkpoint/hdf5_internal.h"

namespace sg {

using h5::compact_storage;
using h5::fail;
using h5::fail_plain;
using h5::normalize;

namespace {

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
