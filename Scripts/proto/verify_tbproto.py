#!/usr/bin/env python3
"""Checks TBLogger's reconstructed .proto files against TensorBoard's own descriptors.

Every message, field and enum value in `Sources/Shims/_TBLoggerProto/proto` must match, by full
name, the descriptor that the installed `tensorboard` (and `protobuf`) Python packages were built
from: field number, type, label, referenced type, oneof membership and packing. An upstream field
that a trimmed message leaves out must be `reserved` there, so its number can never be reused.

Usage: python3 Scripts/proto/verify_tbproto.py <descriptor_set.pb>
(the set is produced by `protoc --include_imports --descriptor_set_out`; see
Scripts/regen-tbproto.sh, which runs this).
"""
import sys

from google.protobuf import descriptor_pb2, struct_pb2
from tensorboard.compat.proto import (event_pb2, histogram_pb2, summary_pb2, tensor_pb2,
                                      tensor_shape_pb2, types_pb2)
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

UPSTREAM = [event_pb2, histogram_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2,
            api_pb2, plugin_data_pb2, struct_pb2]


def file_proto(module):
    p = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(p)
    return p


def index(files):
    """Maps full names to (kind, proto, enclosing message) for messages and enums."""
    out = {}

    def walk_msg(prefix, msg):
        name = f"{prefix}.{msg.name}"
        out[name] = ("message", msg)
        for n in msg.nested_type:
            walk_msg(name, n)
        for e in msg.enum_type:
            out[f"{name}.{e.name}"] = ("enum", e)

    for f in files:
        for m in f.message_type:
            walk_msg(f.package, m)
        for e in f.enum_type:
            out[f"{f.package}.{e.name}"] = ("enum", e)
    return out


def packed(field, syntax):
    if field.label != descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED:
        return False
    if field.options.HasField("packed"):
        return field.options.packed
    scalar = field.type not in (field.TYPE_STRING, field.TYPE_BYTES, field.TYPE_MESSAGE,
                                field.TYPE_GROUP)
    return scalar and syntax == "proto3"


def main():
    ours_set = descriptor_pb2.FileDescriptorSet()
    with open(sys.argv[1], "rb") as f:
        ours_set.ParseFromString(f.read())
    ours_files = {f.name: f for f in ours_set.file}
    upstream_files = {m.DESCRIPTOR.name: file_proto(m) for m in UPSTREAM}
    errors = []
    checked = 0
    for name, ours in ours_files.items():
        up = upstream_files.get(name)
        if up is None:
            errors.append(f"{name}: no upstream file of that path")
            continue
        if ours.package != up.package:
            errors.append(f"{name}: package {ours.package!r}, upstream {up.package!r}")
        mine, theirs = index([ours]), index([up])
        for full, (kind, proto) in mine.items():
            if full not in theirs:
                errors.append(f"{full}: not in upstream {name}")
                continue
            ukind, uproto = theirs[full]
            if kind != ukind:
                errors.append(f"{full}: a {kind} here, a {ukind} upstream")
                continue
            if kind == "enum":
                uvals = {v.name: v.number for v in uproto.value}
                for v in proto.value:
                    checked += 1
                    if uvals.get(v.name) != v.number:
                        errors.append(f"{full}.{v.name} = {v.number}, upstream {uvals.get(v.name)}")
                missing = set(uvals) - {v.name for v in proto.value}
                if missing:
                    errors.append(f"{full}: values missing {sorted(missing)}")
                continue
            ufields = {f.number: f for f in uproto.field}
            reserved = {n for r in proto.reserved_range for n in range(r.start, r.end)}
            for fld in proto.field:
                checked += 1
                u = ufields.get(fld.number)
                where = f"{full}.{fld.name} = {fld.number}"
                if u is None:
                    errors.append(f"{where}: no upstream field with that number")
                    continue
                for attr in ("name", "type", "label", "type_name"):
                    if getattr(fld, attr) != getattr(u, attr):
                        errors.append(f"{where}: {attr} {getattr(fld, attr)!r}, upstream {getattr(u, attr)!r}")
                oneof = proto.oneof_decl[fld.oneof_index].name if fld.HasField("oneof_index") else None
                uoneof = uproto.oneof_decl[u.oneof_index].name if u.HasField("oneof_index") else None
                if oneof != uoneof:
                    errors.append(f"{where}: oneof {oneof!r}, upstream {uoneof!r}")
                if packed(fld, ours.syntax) != packed(u, up.syntax):
                    errors.append(f"{where}: packed {packed(fld, ours.syntax)}, upstream {packed(u, up.syntax)}")
            for number, u in ufields.items():
                if number not in {f.number for f in proto.field} and number not in reserved:
                    errors.append(f"{full}: upstream field {u.name} = {number} neither present nor reserved")
    for e in errors:
        print("MISMATCH", e)
    if errors:
        sys.exit(1)
    print(f"OK: {checked} fields and enum values in {len(ours_files)} files match upstream descriptors")


if __name__ == "__main__":
    main()
