"""bim.open: every broken upload gets InvalidIfc with a message that says what is wrong."""

from __future__ import annotations

import shutil
import struct
import zipfile
from pathlib import Path

import pytest

from bim.errors import InvalidIfc, UnsupportedSchema
from bim.open import check_ifc_file, open_ifc, validate_ifc_upload
from tests.bim.helpers import IFC_BAD, fixture


def bad(name: str) -> Path:
    path = IFC_BAD / name
    if not path.is_file():
        pytest.skip(f"shared fixture missing: {path}")
    return path


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("KIT-Simple-Road-Test-Web-IFC4x3_RC2.ifc", UnsupportedSchema,
         "unsupported schema IFC4X3_RC2; supported: IFC2X3, IFC4, IFC4X3_ADD2"),
        ("AC07-Space-Boundaries.IFC", UnsupportedSchema,
         "unsupported schema IFC2X_FINAL; supported: IFC2X3, IFC4, IFC4X3_ADD2"),
        ("AC20-FZK-Haus.lfs-pointer.ifc", InvalidIfc, "Git LFS pointer"),
        ("AC20-FZK-Haus.truncated-50pct.ifc", InvalidIfc, "truncated IFC file: no END-ISO-10303-21; trailer"),
    ],
)
def test_bad_fixtures_are_rejected_with_the_reason(name: str, error: type, message: str) -> None:
    with pytest.raises(error) as caught:
        open_ifc(bad(name))
    assert message in str(caught.value)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.ifc"
    path.write_bytes(b"")
    with pytest.raises(InvalidIfc, match="empty file"):
        check_ifc_file(path)


def test_text_that_is_not_ifc(tmp_path: Path) -> None:
    path = tmp_path / "notes.ifc"
    path.write_text("These are my meeting notes, not a model.\n")
    with pytest.raises(InvalidIfc, match="not an IFC file"):
        check_ifc_file(path)


def test_header_without_file_schema(tmp_path: Path) -> None:
    path = tmp_path / "noschema.ifc"
    path.write_text("ISO-10303-21;\nHEADER;\nFILE_NAME('x','',(''),(''),'','','');\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n")
    with pytest.raises(InvalidIfc, match="no FILE_SCHEMA"):
        check_ifc_file(path)


def test_zip_bomb_is_refused_from_its_directory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.ifczip"
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("model.ifc", "w", force_zip64=True) as member:
            for _ in range(300):  # 300 MB of zeros, ~300 kB on disk
                member.write(chunk)
    assert bomb.stat().st_size < 2_000_000
    with pytest.raises(InvalidIfc, match="zip bomb"):
        check_ifc_file(bomb)
    assert [p.name for p in tmp_path.iterdir()] == ["bomb.ifczip"]  # nothing extracted


def test_zip_whose_directory_lies_about_sizes_is_refused_while_extracting(tmp_path: Path) -> None:
    # 100 MB of zeros whose directory claims 1,000 bytes: only counting while extracting can tell.
    liar = tmp_path / "liar.ifczip"
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(liar, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("model.ifc", "w") as member:
            for _ in range(100):
                member.write(chunk)
    data = bytearray(liar.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 1000)  # central directory: uncompressed size
    struct.pack_into("<I", data, 22, 1000)  # local header: uncompressed size
    liar.write_bytes(bytes(data))
    with pytest.raises(InvalidIfc):
        check_ifc_file(liar)
    assert [p.name for p in tmp_path.iterdir()] == ["liar.ifczip"]


def test_zip_with_two_ifc_files(tmp_path: Path) -> None:
    path = tmp_path / "two.ifczip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.ifc", "ISO-10303-21;")
        archive.writestr("b/b.IFC", "ISO-10303-21;")
    with pytest.raises(InvalidIfc, match="exactly one .ifc file; found 2"):
        check_ifc_file(path)


def test_corrupt_zip(tmp_path: Path) -> None:
    path = tmp_path / "broken.ifczip"
    path.write_bytes(b"PK\x03\x04" + b"garbage" * 10)
    with pytest.raises(InvalidIfc, match="not a valid .ifczip"):
        check_ifc_file(path)


def test_ifczip_is_extracted_next_to_it_and_cleaned_up(tmp_path: Path) -> None:
    upload = tmp_path / "upload.ifczip"
    shutil.copy(fixture("AC20-FZK-Haus.ifczip"), upload)
    extracted = check_ifc_file(upload)
    assert extracted.parent == tmp_path and extracted.suffix == ".ifc"
    assert extracted.read_bytes().startswith(b"ISO-10303-21;")
    extracted.unlink()
    validate_ifc_upload(upload)
    assert [p.name for p in tmp_path.iterdir()] == ["upload.ifczip"]  # the verdict alone leaves nothing
    model = open_ifc(upload)
    assert len(model.by_type("IfcProduct")) == 127
    assert [p.name for p in tmp_path.iterdir()] == ["upload.ifczip"]  # open_ifc removed its temp file


def test_ifc4x3_header_name_is_read_as_ifc4x3_add2(tmp_path: Path) -> None:
    source = fixture("geographic-referencing-utm_IFC4X3.ifc").read_text()
    path = tmp_path / "iso.ifc"
    path.write_text(source.replace("FILE_SCHEMA (('IFC4X3_ADD2'));", "FILE_SCHEMA (('IFC4X3'));"))
    model = open_ifc(path)
    assert model.schema_identifier == "IFC4X3_ADD2"
    assert len(model.by_type("IfcBuildingElementProxy")) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["iso.ifc"]


@pytest.mark.parametrize("schema", ["IFC4X3_RC1", "IFC4X3_RC4", "IFC4X1", "IFC5"])
def test_pre_release_and_unknown_schemas(tmp_path: Path, schema: str) -> None:
    source = fixture("geographic-referencing-utm_IFC4X3.ifc").read_text()
    path = tmp_path / "old.ifc"
    path.write_text(source.replace("IFC4X3_ADD2", schema))
    with pytest.raises(UnsupportedSchema, match=f"unsupported schema {schema}; supported: IFC2X3, IFC4, IFC4X3_ADD2"):
        check_ifc_file(path)


def test_good_fixtures_pass_unchanged() -> None:
    for name in ("AC20-FZK-Haus.ifc", "Duplex_A_20110907_georeferenced.ifc", "geographic-referencing-utm_IFC4X3.ifc"):
        path = fixture(name)
        assert check_ifc_file(path) == path
