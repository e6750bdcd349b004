"""Serializers for snarkjs's JSON files and the iden3 binary files (.r1cs, .wtns, .zkey).

Format names (``pi_a``, ``IC``, ``vk_alpha_1``, section ids) live here and nowhere else; the rest
of zkmargin speaks in the paper names of ``zkmargin.groth16``. Every writer is atomic (a
temporary file in the target's folder, then ``os.replace``); every reader validates the structure
of what it reads and raises a named error (``MalformedJSONError``, ``FileFormatError``,
``PointNotOnCurveError``) that names the file, the field or section, and the bad value.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names, for type checkers; at run time each is imported on first use
    from zkmargin.serialize.binfile import BinFile, encode_binfile, read_binfile, write_binfile
    from zkmargin.serialize.json_formats import (
        dump_proof,
        dump_public_inputs,
        dump_verifying_key,
        load_proof,
        load_public_inputs,
        load_verifying_key,
        loads_proof,
        loads_public_inputs,
        loads_verifying_key,
        read_json_file,
        write_proof,
        write_public_inputs,
        write_verifying_key,
    )
    from zkmargin.serialize.r1cs_file import (
        R1csHeader,
        r1cs_to_bytes,
        read_r1cs,
        read_r1cs_header,
        read_r1cs_wire_map,
        read_sym,
        write_r1cs,
        write_sym,
    )
    from zkmargin.serialize.wtns_file import read_wtns, write_wtns, wtns_to_bytes
    from zkmargin.serialize.zkey_file import (
        CONTRIBUTE_SECTION_ORDER,
        SETUP_SECTION_ORDER,
        ZkeyMpcParams,
        decode_sections,
        read_zkey,
        read_zkey_mpc_params,
        write_zkey,
        zkey_to_bytes,
    )

# Imported on first use (PEP 562): reading a proof.json does not load the binary formats' modules.
_LAZY = {
    'BinFile': 'zkmargin.serialize.binfile',
    'encode_binfile': 'zkmargin.serialize.binfile',
    'read_binfile': 'zkmargin.serialize.binfile',
    'write_binfile': 'zkmargin.serialize.binfile',
    'dump_proof': 'zkmargin.serialize.json_formats',
    'dump_public_inputs': 'zkmargin.serialize.json_formats',
    'dump_verifying_key': 'zkmargin.serialize.json_formats',
    'load_proof': 'zkmargin.serialize.json_formats',
    'load_public_inputs': 'zkmargin.serialize.json_formats',
    'load_verifying_key': 'zkmargin.serialize.json_formats',
    'loads_proof': 'zkmargin.serialize.json_formats',
    'loads_public_inputs': 'zkmargin.serialize.json_formats',
    'loads_verifying_key': 'zkmargin.serialize.json_formats',
    'read_json_file': 'zkmargin.serialize.json_formats',
    'write_proof': 'zkmargin.serialize.json_formats',
    'write_public_inputs': 'zkmargin.serialize.json_formats',
    'write_verifying_key': 'zkmargin.serialize.json_formats',
    'R1csHeader': 'zkmargin.serialize.r1cs_file',
    'r1cs_to_bytes': 'zkmargin.serialize.r1cs_file',
    'read_r1cs': 'zkmargin.serialize.r1cs_file',
    'read_r1cs_header': 'zkmargin.serialize.r1cs_file',
    'read_r1cs_wire_map': 'zkmargin.serialize.r1cs_file',
    'read_sym': 'zkmargin.serialize.r1cs_file',
    'write_r1cs': 'zkmargin.serialize.r1cs_file',
    'write_sym': 'zkmargin.serialize.r1cs_file',
    'read_wtns': 'zkmargin.serialize.wtns_file',
    'write_wtns': 'zkmargin.serialize.wtns_file',
    'wtns_to_bytes': 'zkmargin.serialize.wtns_file',
    'CONTRIBUTE_SECTION_ORDER': 'zkmargin.serialize.zkey_file',
    'SETUP_SECTION_ORDER': 'zkmargin.serialize.zkey_file',
    'ZkeyMpcParams': 'zkmargin.serialize.zkey_file',
    'decode_sections': 'zkmargin.serialize.zkey_file',
    'read_zkey': 'zkmargin.serialize.zkey_file',
    'read_zkey_mpc_params': 'zkmargin.serialize.zkey_file',
    'write_zkey': 'zkmargin.serialize.zkey_file',
    'zkey_to_bytes': 'zkmargin.serialize.zkey_file',
}

__all__ = [
    # JSON (snarkjs)
    "load_verifying_key",
    "loads_verifying_key",
    "dump_verifying_key",
    "write_verifying_key",
    "load_proof",
    "loads_proof",
    "dump_proof",
    "write_proof",
    "load_public_inputs",
    "loads_public_inputs",
    "dump_public_inputs",
    "write_public_inputs",
    "read_json_file",
    # iden3 binary container
    "BinFile",
    "read_binfile",
    "encode_binfile",
    "write_binfile",
    # .r1cs / .sym
    "R1csHeader",
    "r1cs_to_bytes",
    "write_r1cs",
    "read_r1cs",
    "read_r1cs_header",
    "read_r1cs_wire_map",
    "write_sym",
    "read_sym",
    # .wtns
    "wtns_to_bytes",
    "write_wtns",
    "read_wtns",
    # .zkey
    "ZkeyMpcParams",
    "SETUP_SECTION_ORDER",
    "CONTRIBUTE_SECTION_ORDER",
    "zkey_to_bytes",
    "write_zkey",
    "read_zkey",
    "read_zkey_mpc_params",
    "decode_sections",
]


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
