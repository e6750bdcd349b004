"""The on-chain gate of the venue-attested statement: a Solidity contract beside its Groth16 verifier.

:func:`export_gate` writes one Solidity file with two contracts: the Groth16 verifier of an
attested verifying key (``export_solidity``, five public inputs) and ``MarginGate``, which owns
one instance of it (created by its constructor) and keeps the venue's published data and the spent
nullifiers:

* ``postEpoch(epoch, accountRoot, marketDigest)`` (owner only): the venue publishes the root of its
  account tree and the digest of its market data for an epoch, once (an epoch's data never
  changes, so a proof accepted for it stays meaningful); both must be non-zero field elements;
* ``submit(a, b, c, epoch, threshold, context, nullifier)``: anyone submits a proof. The contract
  takes the root and digest from storage (the caller cannot choose them), refuses an epoch that was
  not posted and a nullifier already spent, checks the proof for ``(root, digest, threshold,
  context, nullifier)``, records the nullifier and emits ``MarginProved``. A proof that does not
  verify reverts ``InvalidProof()``; malformed proofs revert with the verifier's own errors.
* ``transferOwnership(newOwner)`` (owner only).

What the contract does not decide: whether ``threshold`` is high enough and ``context`` is the
one a consumer asked for (a lender's nonce, this chain's id); the event carries both, indexed by
nullifier and epoch, for the consumer (or a contract that calls ``submit``) to check. The nullifier
is ``Poseidon(tag, key, context)``: one spent set covers every context, because two contexts give
two different nullifiers.

Base install only (py_ecc + click): the export is text.
"""

from __future__ import annotations

import re
from string import Template

from zkmargin.errors import MalformedInputError, PublicInputCountError
from zkmargin.field import R
from zkmargin.groth16 import VerifyingKey

from .solidity import export_solidity

__all__ = ["export_gate", "GATE_ERRORS", "GATE_EVENTS"]

#: The gate's custom errors (the verifier's own errors may also bubble up from ``submit``).
GATE_ERRORS = ("NotOwner()", "UnknownEpoch(uint64)", "EpochAlreadyPosted(uint64)", "NotAFieldElement()",
               "NullifierSpent(uint256)", "InvalidProof()")
#: The gate's events.
GATE_EVENTS = ("EpochPosted(uint64,uint256,uint256)", "MarginProved(uint64,uint256,uint256,uint256,address)",
               "OwnershipTransferred(address,address)")

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")

_GATE = Template("""

/// @title Margin gate: venue-attested margin proofs checked against the venue's posted data
/// @notice The owner (the venue) posts, once per epoch, the root of its account tree and the digest
///         of its market data. Anyone submits a proof that an account under the root meets the
///         margin rule for a threshold and a context; each nullifier is accepted once.
contract $gate_name {
    error NotOwner();
    error UnknownEpoch(uint64 epoch);
    error EpochAlreadyPosted(uint64 epoch);
    error NotAFieldElement();
    error NullifierSpent(uint256 nullifier);
    error InvalidProof();

    event EpochPosted(uint64 indexed epoch, uint256 accountRoot, uint256 marketDigest);
    /// @notice An account under the epoch's root met the rule at `threshold` for `context`.
    event MarginProved(uint64 indexed epoch, uint256 indexed nullifier, uint256 threshold, uint256 context,
                       address submitter);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    struct Epoch {
        uint256 accountRoot;
        uint256 marketDigest;
    }

    // BN254 scalar field order r.
    uint256 internal constant R = $r;

    $verifier_name public immutable verifier;
    address public owner;
    mapping(uint64 => Epoch) public epochs;
    mapping(uint256 => bool) public spent;

    constructor(address initialOwner) {
        verifier = new $verifier_name();
        owner = initialOwner;
        emit OwnershipTransferred(address(0), initialOwner);
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    function transferOwnership(address newOwner) external onlyOwner {
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Publish an epoch's account root and market digest (once; non-zero field elements).
    function postEpoch(uint64 epoch, uint256 accountRoot, uint256 marketDigest) external onlyOwner {
        if (epochs[epoch].accountRoot != 0) revert EpochAlreadyPosted(epoch);
        if (accountRoot == 0 || accountRoot >= R || marketDigest == 0 || marketDigest >= R) revert NotAFieldElement();
        epochs[epoch] = Epoch(accountRoot, marketDigest);
        emit EpochPosted(epoch, accountRoot, marketDigest);
    }

    /// @notice Accept a proof for the posted epoch; the root and the digest come from storage.
    function submit(
        uint[2] calldata a,
        uint[2][2] calldata b,
        uint[2] calldata c,
        uint64 epoch,
        uint256 threshold,
        uint256 context,
        uint256 nullifier
    ) external {
        Epoch memory e = epochs[epoch];
        if (e.accountRoot == 0) revert UnknownEpoch(epoch);
        if (spent[nullifier]) revert NullifierSpent(nullifier);
        uint[5] memory pub = [e.accountRoot, e.marketDigest, threshold, context, nullifier];
        if (!verifier.verifyProof(a, b, c, pub)) revert InvalidProof();
        spent[nullifier] = true;
        emit MarginProved(epoch, nullifier, threshold, context, msg.sender);
    }
}
""")


def export_gate(vk: VerifyingKey, gate_name: str = "MarginGate", verifier_name: str = "MarginGateVerifier",
                pragma: str = ">=0.8.4 <0.9.0") -> str:
    """Solidity source of the gate and its verifier for an attested verifying key (module docstring).

    Args:
        vk: the verifying key of an attested circuit (``zkmargin accounts setup``): 5 public inputs
            in the order (account_root, market_digest, threshold, context, nullifier).
        gate_name, verifier_name: the two contracts' names (Solidity identifiers, different).
        pragma: as for ``export_solidity``.
    Raises:
        PublicInputCountError: the key does not have 5 public inputs.
        MalformedInputError: the key records another statement kind than "attested".
        ValueError: a bad name or pragma. The key's own errors as ``export_solidity``.
    """
    for name in (gate_name, verifier_name):
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"{name!r} is not a Solidity identifier")
    if gate_name == verifier_name:
        raise ValueError("the gate and its verifier need two different contract names")
    if vk.n_public != 5:
        raise PublicInputCountError(f"the gate checks attested proofs (5 public inputs: account_root, market_digest, "
                                    f"threshold, context, nullifier); this key has {vk.n_public}")
    kind = (vk.statement or {}).get("kind")
    if kind is not None and kind != "attested":
        raise MalformedInputError(f"this verifying key is for the {kind} statement; the gate needs the attested "
                                  "one (zkmargin accounts setup)")
    verifier = export_solidity(vk, contract_name=verifier_name, pragma=pragma)
    return verifier + _GATE.substitute(gate_name=gate_name, verifier_name=verifier_name, r=R)
