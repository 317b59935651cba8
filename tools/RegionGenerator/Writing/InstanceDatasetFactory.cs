using System.Globalization;
using ServerlessImaging.Dicom;
using ServerlessImaging.RegionGenerator.Manifest;
using ServerlessImaging.RegionGenerator.Studies;

namespace ServerlessImaging.RegionGenerator.Writing;

/// <summary>
/// Builds one instance's dataset: SOP common, Patient, General Study, General Series, (CT/MR or SC) image and
/// Image Pixel modules with the attributes PACS index. The patient module is the site's record:
/// usage name in PatientName, birth name in PatientBirthName when different, INS in OtherPatientIDsSequence.
/// </summary>
public static class InstanceDatasetFactory
{
    private const string InsTypeOfPatientId = "TEXT";

    public static DicomDataset Create(
        ManifestPatient patient, ManifestPatientRecord record, ManifestStudy study, ManifestSeries series, ManifestInstance instance, ReadOnlyMemory<byte> pixels)
    {
        ArgumentNullException.ThrowIfNull(patient);
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(instance);

        var ds = new DicomDataset();
        // First: text added afterwards is encoded with it.
        ds.AddOrUpdate(DicomTag.SpecificCharacterSet, record.SpecificCharacterSet);

        // SOP Common
        ds.AddOrUpdate(DicomTag.SOPClassUID, series.SopClassUid);
        ds.AddOrUpdate(DicomTag.SOPInstanceUID, instance.SopInstanceUid);
        ds.AddOrUpdate(DicomTag.InstanceCreationDate, study.StudyDate);
        ds.AddOrUpdate(DicomTag.InstanceCreationTime, study.StudyTime);

        // Patient
        ds.AddOrUpdate(DicomTag.PatientName, record.PatientName);
        ds.AddOrUpdate(DicomTag.PatientID, record.PatientId);
        ds.AddOrUpdate(DicomTag.IssuerOfPatientID, record.Site.ToUpperInvariant());
        ds.AddOrUpdate(DicomTag.PatientBirthDate, patient.BirthDate);
        ds.AddOrUpdate(DicomTag.PatientSex, patient.Sex.ToString());
        if (record.PatientBirthName is { } birthName)
        {
            ds.AddOrUpdate(DicomTag.PatientBirthName, birthName);
        }
        if (patient.Ins is { } ins)
        {
            var item = new DicomDataset();
            item.AddOrUpdate(DicomTag.PatientID, ins.Value);
            item.AddOrUpdate(DicomTag.IssuerOfPatientID, "INS");
            item.AddOrUpdate(DicomTag.TypeOfPatientID, InsTypeOfPatientId);
            var issuer = new DicomDataset();
            issuer.AddOrUpdate(DicomTag.UniversalEntityID, ins.Issuer);
            issuer.AddOrUpdate(DicomTag.UniversalEntityIDType, "ISO");
            item.AddOrUpdate(DicomTag.IssuerOfPatientIDQualifiersSequence, issuer);
            ds.AddOrUpdate(DicomTag.OtherPatientIDsSequence, item);
        }

        // General Study
        ds.AddOrUpdate(DicomTag.StudyInstanceUID, study.StudyInstanceUid);
        ds.AddOrUpdate(DicomTag.StudyDate, study.StudyDate);
        ds.AddOrUpdate(DicomTag.StudyTime, study.StudyTime);
        ds.AddOrUpdate(DicomTag.AccessionNumber, study.AccessionNumber);
        ds.AddOrUpdate(DicomTag.StudyID, study.StudyId);
        ds.AddOrUpdate(DicomTag.StudyDescription, study.Description);
        ds.AddOrUpdate(DicomTag.ReferringPhysicianName, study.ReferringPhysicianName);

        // General Series / Equipment
        ds.AddOrUpdate(DicomTag.Modality, series.Modality);
        ds.AddOrUpdate(DicomTag.SeriesInstanceUID, series.SeriesInstanceUid);
        ds.AddOrUpdate(DicomTag.SeriesNumber, Is(series.SeriesNumber));
        ds.AddOrUpdate(DicomTag.SeriesDescription, series.Description);
        ds.AddOrUpdate(DicomTag.SeriesDate, study.StudyDate);
        ds.AddOrUpdate(DicomTag.SeriesTime, study.StudyTime);
        ds.AddOrUpdate(DicomTag.Manufacturer, "ServerlessImaging region-generator");
        ds.AddOrUpdate(DicomTag.InstitutionName, record.Site);

        // General Image
        ds.AddOrUpdate(DicomTag.InstanceNumber, Is(instance.InstanceNumber));
        ds.AddOrUpdate(DicomTag.ContentDate, study.StudyDate);
        ds.AddOrUpdate(DicomTag.ContentTime, study.StudyTime);

        if (series.SopClassUid is ModalityCatalog.CtImageStorage or ModalityCatalog.MrImageStorage)
        {
            // Frame of reference and plane: a stack of axial slices 1.25 mm apart.
            ds.AddOrUpdate(DicomTag.FrameOfReferenceUID, series.SeriesInstanceUid + ".1");
            ds.AddOrUpdate(DicomTag.ImageType, "ORIGINAL", "PRIMARY", "AXIAL");
            ds.AddOrUpdate(DicomTag.ImagePositionPatient, "-250", "-250", Ds(-1.25 * instance.InstanceNumber));
            ds.AddOrUpdate(DicomTag.ImageOrientationPatient, "1", "0", "0", "0", "1", "0");
            ds.AddOrUpdate(DicomTag.PixelSpacing, Ds(500.0 / series.Rows), Ds(500.0 / series.Columns));
            ds.AddOrUpdate(DicomTag.SliceThickness, "1.25");
        }
        if (series.SopClassUid == ModalityCatalog.CtImageStorage)
        {
            ds.AddOrUpdate(DicomTag.RescaleIntercept, "-1024");
            ds.AddOrUpdate(DicomTag.RescaleSlope, "1");
            ds.AddOrUpdate(DicomTag.KVP, "120");
        }
        if (series.SopClassUid == ModalityCatalog.MrImageStorage)
        {
            ds.AddOrUpdate(DicomTag.ImageType, "ORIGINAL", "PRIMARY", "OTHER");
            ds.AddOrUpdate(DicomTag.ScanningSequence, "SE");
            ds.AddOrUpdate(DicomTag.SequenceVariant, "NONE");
            ds.AddOrUpdate(DicomTag.ScanOptions, "");
            ds.AddOrUpdate(DicomTag.MRAcquisitionType, "3D");
            ds.AddOrUpdate(DicomTag.EchoTime, "10");
            ds.AddOrUpdate(DicomTag.RepetitionTime, "500");
            ds.AddOrUpdate(DicomTag.EchoTrainLength, "1");
        }
        if (series.SopClassUid == ModalityCatalog.SecondaryCaptureImageStorage)
        {
            ds.AddOrUpdate(DicomTag.ConversionType, "WSD");
        }

        if (series.Pixels == CtPhantom.PixelsKind)
        {
            // The phantom's geometry: 400 mm field of view, 5 mm slices from the apices down (z decreasing), centred.
            var spacing = CtPhantom.FieldOfViewMm / CtPhantom.Size;
            ds.AddOrUpdate(DicomTag.ImagePositionPatient, Ds(-CtPhantom.FieldOfViewMm / 2 + spacing / 2), Ds(-CtPhantom.FieldOfViewMm / 2 + spacing / 2), Ds(-CtPhantom.SliceMm * (instance.InstanceNumber - 1)));
            ds.AddOrUpdate(DicomTag.SliceLocation, Ds(-CtPhantom.SliceMm * (instance.InstanceNumber - 1)));
            ds.AddOrUpdate(DicomTag.PixelSpacing, Ds(spacing), Ds(spacing));
            ds.AddOrUpdate(DicomTag.SliceThickness, Ds(CtPhantom.SliceMm));
            ds.AddOrUpdate(DicomTag.PatientPosition, "HFS");
            ds.AddOrUpdate(DicomTag.BodyPartExamined, "CHEST");
        }

        // Image Pixel
        SyntheticInstance.AddImagePixelModule(ds, series.Rows, series.Columns, series.BitsAllocated, PixelPattern.BitsStored);
        var phantom = series.Pixels == CtPhantom.PixelsKind;
        ds.AddOrUpdate(DicomTag.WindowCenter, phantom ? Is(CtPhantom.WindowCenter) : "2048");
        ds.AddOrUpdate(DicomTag.WindowWidth, phantom ? Is(CtPhantom.WindowWidth) : "4096");
        ds.AddOrUpdate(DicomTag.PixelData, DicomVR.OW, pixels);
        return ds;
    }

    private static string Is(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Ds(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
