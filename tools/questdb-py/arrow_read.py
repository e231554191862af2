"""Reads one query's first batch from qwire's reader into PyArrow through the
Arrow C Data Interface (tests/peers/arrow_probe.cpp, loaded with ctypes),
validates it fully and prints it column by column:

    name type null_count: v1|v2|...      (temporal columns as int64, NULL as None)

Usage: python arrow_read.py LIBRARY CONF SQL
"""
import ctypes
import sys

import pyarrow as pa

lib = ctypes.CDLL(sys.argv[1])
fetch = lib.qwire_probe_query_arrow
fetch.restype = ctypes.c_int
fetch.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
# struct ArrowSchema is 72 bytes, struct ArrowArray 80 (the C ABI).
schema = ctypes.create_string_buffer(72)
array = ctypes.create_string_buffer(80)
err = ctypes.create_string_buffer(1024)
rc = fetch(sys.argv[2].encode(), sys.argv[3].encode(), ctypes.addressof(schema), ctypes.addressof(array), err, 1024)
if rc < 0:
    print("error: " + err.value.decode())
    sys.exit(1)
if rc == 0:
    print("no batch")
    sys.exit(0)
batch = pa.RecordBatch._import_from_c(ctypes.addressof(array), ctypes.addressof(schema))
batch.validate(full=True)
for field, col in zip(batch.schema, batch.columns):
    if pa.types.is_temporal(field.type):
        col = col.cast(pa.int64())
    values = [v.hex() if isinstance(v, bytes) else v for v in col.to_pylist()]
    print(f"{field.name} {field.type} {col.null_count}: " + "|".join(repr(v) for v in values))
print(f"rows {batch.num_rows}")
