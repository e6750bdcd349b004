"""Serializers for snarkjs's JSON files and the iden3 binary files (.r1cs, .wtns, .zkey).

Format names (``pi_a``, ``IC``, ``vk_alpha_1``, section ids) live here and nowhere else; the rest
of zkmargin speaks in the paper names of ``zkmargin.groth16``. Every writer is atomic (a
temporary file in the target's folder, then ``os.replace``); every reader validates the structure
of what it reads and raises a named error (``MalformedJSONError``, ``FileFormatError``,
``PointNotOnCurveError``) that names the file, the field or section, and the bad value.
"""

from __future__ import annotations

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
