"""DICOM headers: metadata without identities, and the Basic Profile applied to the header only."""

import io
import re
from datetime import date

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
)

from services.common.errors import UnsupportedMediaType
from services.files.dicom import DicomMetadata, deidentify_header, read_metadata
from tests.files import samples

SALT = b"per-deployment secret"
SYNTAXES = [ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEGBaseline8Bit, ExplicitVRBigEndian]
NEW_UID = re.compile(r"2\.25\.(0|[1-9][0-9]*)")
IDENTIFYING_BYTES = [
    samples.PATIENT_NAME.encode(),
    b"PID-0042",
    b"19600131",
    b"Central District",
    b"Lenina",
    b"Oktyabrskaya",
    b"Petrov",
    b"Sidorova",
    b"ACC-2024-0001",
    b"VIP patient",
    b"Ivanov I.",
    samples.STUDY_UID.encode(),
    samples.SOP_UID.encode(),
]


def deidentified(data: bytes, salt: bytes = SALT) -> tuple[bytes, Dataset]:
    """The download the lead streams: the new header, then the original's pixel data range."""
    result = deidentify_header(io.BytesIO(data), uid_salt=salt)
    out = result.header + data[result.pixel_data_offset : result.pixel_data_end]
    return out, dcmread(io.BytesIO(out))


def test_read_metadata() -> None:
    assert read_metadata(io.BytesIO(samples.dicom_bytes())) == DicomMetadata(
        sop_class_uid=samples.CR_IMAGE_STORAGE,
        transfer_syntax_uid=ExplicitVRLittleEndian,
        study_instance_uid=samples.STUDY_UID,
        series_instance_uid=samples.SERIES_UID,
        modality="CR",
        study_date=date(2024, 1, 31),
        study_description="Chest X-ray",
        series_description="PA",
        body_part_examined="CHEST",
        rows=1,
        columns=512,
    )


def test_read_metadata_of_a_compressed_multiframe_image() -> None:
    data = samples.dicom_bytes(transfer_syntax=JPEGBaseline8Bit)
    metadata = read_metadata(io.BytesIO(data))
    assert metadata.transfer_syntax_uid == JPEGBaseline8Bit
    assert (metadata.rows, metadata.columns, metadata.number_of_frames) == (16, 16, 2)


def test_metadata_keeps_no_patient_attributes() -> None:
    assert not [field for field in DicomMetadata.model_fields if "patient" in field]


@pytest.mark.filterwarnings("ignore:Invalid value for VR DA")
@pytest.mark.parametrize("value", ["2024-01-31", "20241341", ""])
def test_a_bad_study_date_is_left_out(value: str) -> None:
    ds = samples.dicom_dataset()
    ds.StudyDate = value
    del ds.StudyDescription
    metadata = read_metadata(io.BytesIO(samples.encode(ds)))
    assert metadata.study_date is None
    assert metadata.study_description is None


@pytest.mark.filterwarnings("ignore:End of file reached")
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(samples.pdf_bytes(), id="pdf"),
        pytest.param(b"", id="empty"),
        pytest.param(samples.dicom_bytes()[:140], id="cut-in-file-meta"),
        pytest.param(bytes(128) + b"DICM" + b"\xff" * 64, id="garbage-after-dicm"),
        pytest.param(samples.dicom_bytes()[128:], id="no-preamble"),
    ],
)
def test_non_part10_files_are_refused(data: bytes) -> None:
    for read in (read_metadata, lambda f: deidentify_header(f, uid_salt=SALT)):
        with pytest.raises(UnsupportedMediaType, match="DICOM") as caught:
            read(io.BytesIO(data))
        assert caught.value.status == 415


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_the_download_is_valid_dicom_with_the_original_pixels(syntax: str) -> None:
    data = samples.dicom_bytes(transfer_syntax=syntax)
    original = dcmread(io.BytesIO(data))
    out, ds = deidentified(data)
    assert ds.file_meta.TransferSyntaxUID == syntax
    assert ds.original_encoding == original.original_encoding
    assert ds.PixelData == original.PixelData
    assert out[:128] == bytes(128)
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID == samples.CR_IMAGE_STORAGE


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_identifying_attributes_are_removed_emptied_or_dummied(syntax: str) -> None:
    out, ds = deidentified(samples.dicom_bytes(transfer_syntax=syntax))
    for identifying in IDENTIFYING_BYTES:
        assert identifying not in out
    for keyword in ("PatientName", "PatientBirthDate", "PatientSex", "ReferringPhysicianName"):
        assert ds[keyword].is_empty, keyword  # Z: kept, zero length
    for keyword in ("AccessionNumber", "StudyDate", "StudyID"):
        assert ds[keyword].is_empty, keyword
    for keyword in ("PatientID", "InstitutionName", "OperatorsName"):
        assert ds[keyword].value == "ANONYMIZED", keyword  # D: dummy
    assert ds.ContentDate == "19000101"
    assert "PatientAddress" not in ds  # X
    assert "InstitutionAddress" not in ds
    assert (ds.Modality, ds.BodyPartExamined) == ("CR", "CHEST")


def test_private_overlay_and_curve_groups_are_gone_at_every_depth() -> None:
    ds = samples.dicom_dataset()
    region = Dataset()
    region.CodeValue, region.CodingSchemeDesignator = "T-D3000", "SRT"
    region.PatientName = "Nested^Name"
    region.private_block(0x0011, "ACME", create=True).add_new(0x01, "LO", "nested secret")
    ds.AnatomicRegionSequence = [region]
    out, clean = deidentified(samples.encode(ds))
    tags = [element.tag for element in clean.iterall()]
    assert not [tag for tag in tags if tag.is_private]
    assert not [tag for tag in tags if tag.group & 0xFF00 in (0x5000, 0x6000)]
    assert b"nested secret" not in out
    item = clean.AnatomicRegionSequence[0]
    assert item.CodeValue == "T-D3000"
    assert item["PatientName"].is_empty


def test_pixel_data_inside_a_sequence_does_not_end_the_header() -> None:
    ds = samples.dicom_dataset()
    icon = Dataset()
    icon.Rows, icon.Columns, icon.BitsAllocated, icon.PixelData = 1, 4, 8, b"ICON"
    ds.IconImageSequence = [icon]  # (0088,0200): after the icon come more top-level elements
    ds.add_new(0x00880904, "LO", "Topic title")
    data = samples.encode(ds)
    result = deidentify_header(io.BytesIO(data), uid_salt=SALT)
    assert result.pixel_data_offset > data.index(b"ICON")
    out, clean = deidentified(data)
    assert b"ICON" not in out
    assert "IconImageSequence" not in clean  # X: a thumbnail can show the patient's name
    assert "TopicTitle" not in clean
    assert clean.PixelData == ds.PixelData


def test_a_dummied_sequence_keeps_one_empty_item() -> None:
    ds = samples.dicom_dataset()
    note = Dataset()
    note.TextValue = "Patient Ivanov complains of cough"
    ds.ContentSequence = [note]
    out, clean = deidentified(samples.encode(ds))
    assert b"complains" not in out
    assert len(clean.ContentSequence) == 1
    assert len(clean.ContentSequence[0]) == 0


def test_the_dataset_is_marked_deidentified() -> None:
    _, ds = deidentified(samples.dicom_bytes())
    assert ds.PatientIdentityRemoved == "YES"
    assert "Basic Profile" in ds.DeidentificationMethod
    code = ds.DeidentificationMethodCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator) == ("113100", "DCM")


def test_uids_are_replaced() -> None:
    _, ds = deidentified(samples.dicom_bytes())
    replaced = {
        "StudyInstanceUID": samples.STUDY_UID,
        "SeriesInstanceUID": samples.SERIES_UID,
        "SOPInstanceUID": samples.SOP_UID,
        "FrameOfReferenceUID": "1.2.826.0.1.3680043.8.498.10004",
    }
    for keyword, original in replaced.items():
        assert ds[keyword].value != original, keyword
        assert NEW_UID.fullmatch(ds[keyword].value), keyword
        assert len(ds[keyword].value) <= 64
    assert ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID != samples.REFERENCED_UID
    assert ds.ReferencedImageSequence[0].ReferencedSOPClassUID == samples.CR_IMAGE_STORAGE


def test_files_of_one_study_stay_consistent() -> None:
    first = samples.dicom_bytes(sop_instance_uid=samples.REFERENCED_UID)
    second = samples.dicom_bytes()  # its Referenced Image Sequence points at the first
    _, a = deidentified(first)
    _, b = deidentified(second)
    assert a.StudyInstanceUID == b.StudyInstanceUID
    assert a.SeriesInstanceUID == b.SeriesInstanceUID
    assert a.SOPInstanceUID != b.SOPInstanceUID
    assert b.ReferencedImageSequence[0].ReferencedSOPInstanceUID == a.SOPInstanceUID
    _, other_salt = deidentified(second, salt=b"another deployment")
    assert other_salt.StudyInstanceUID != b.StudyInstanceUID


def test_elements_after_the_pixel_data_are_dropped() -> None:
    ds = samples.dicom_dataset()
    block = ds.private_block(0x7FE1, "SIEMENS CSA NON-IMAGE", create=True)
    block.add_new(0x10, "OB", b"trailing identity")
    data = samples.encode(ds)
    result = deidentify_header(io.BytesIO(data), uid_salt=SALT)
    assert data.index(b"trailing identity") >= result.pixel_data_end
    out, clean = deidentified(data)
    assert b"trailing identity" not in out
    assert clean.PixelData == ds.PixelData


def test_a_file_without_pixel_data_is_all_header() -> None:
    ds = samples.dicom_dataset()
    del ds.PixelData
    data = samples.encode(ds)
    result = deidentify_header(io.BytesIO(data), uid_salt=SALT)
    assert result.pixel_data_offset == result.pixel_data_end == len(data)
    assert dcmread(io.BytesIO(result.header))["PatientName"].is_empty


def test_a_file_with_burned_in_annotation_is_refused() -> None:
    ds = samples.dicom_dataset()
    ds.BurnedInAnnotation = "NO"
    deidentify_header(io.BytesIO(samples.encode(ds)), uid_salt=SALT)
    ds.BurnedInAnnotation = "YES"
    with pytest.raises(UnsupportedMediaType, match="burned into its pixels"):
        deidentify_header(io.BytesIO(samples.encode(ds)), uid_salt=SALT)


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, JPEGBaseline8Bit])
def test_truncated_pixel_data_is_refused(syntax: str) -> None:
    data = samples.dicom_bytes(transfer_syntax=syntax)[:-20]
    read_metadata(io.BytesIO(data))  # the header alone is fine
    with pytest.raises(UnsupportedMediaType, match="truncated"):
        deidentify_header(io.BytesIO(data), uid_salt=SALT)


def test_a_deflated_file_is_refused() -> None:
    data = samples.dicom_bytes(transfer_syntax=DeflatedExplicitVRLittleEndian)
    with pytest.raises(UnsupportedMediaType, match="Deflated"):
        deidentify_header(io.BytesIO(data), uid_salt=SALT)
