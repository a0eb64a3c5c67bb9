"""EVM addresses are read strictly and written EIP-55 checksummed."""

import pytest

from autotrader.core.errors import InvalidInputError
from autotrader.core.evm import checksum_address, is_address

# The test vectors of EIP-55 itself.
EIP55_VECTORS = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("address", EIP55_VECTORS)
def test_checksums_the_eip55_vectors_from_any_case(address):
    assert checksum_address(address) == address
    assert checksum_address(address.lower()) == address
    assert checksum_address("0x" + address[2:].upper()) == address


def test_refuses_a_mixed_case_address_whose_checksum_fails():
    typo = EIP55_VECTORS[0][:-1] + "D"  # the last letter's case flipped
    with pytest.raises(InvalidInputError, match="fails its EIP-55 checksum"):
        checksum_address(typo, field="--owner-address")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0x",
        "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd",
        "0xZZAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0x５aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
    ],
)
def test_refuses_what_is_not_an_address_naming_the_field(text):
    with pytest.raises(InvalidInputError, match=r"^--address: .* is not an EVM address"):
        checksum_address(text, field="--address")


def test_is_address_checks_shape_only():
    assert is_address(EIP55_VECTORS[0].lower())
    assert not is_address("0x12")
    assert not is_address(None)
