namespace ServerlessImaging.Dicom.Networking.Tests.Support;

/// <summary>Patient/study fields of generated test instances; every run uses fresh UIDs and ids.</summary>
public sealed record TestPatient(string FamilyName, string GivenName, string PatientId, string CharacterSet = "ISO_IR 192");

/// <summary>Generates small CT instances with the toolkit writer (no corpus UIDs reused, so runs never collide in a PACS).</summary>
public static class TestInstances
{
    public const string CtImageStorage = "1.2.840.10008.5.1.4.1.1.2";

    public static async Task<string> WriteAsync(string directory, TestPatient patient, string studyUid, string seriesUid,
        DateOnly studyDate, string modality = "CT", int size = 16, string? studyDescription = null)
    {
        Directory.CreateDirectory(directory);
        var instanceUid = DicomUid.Generate();
        var ds = new DicomDataset();
        ds.AddOrUpdate(DicomTag.SpecificCharacterSet, patient.CharacterSet);
        ds.AddOrUpdate(DicomTag.SOPClassUID, CtImageStorage);
        ds.AddOrUpdate(DicomTag.SOPInstanceUID, instanceUid);
        ds.AddOrUpdate(DicomTag.StudyDate, studyDate);
        ds.AddOrUpdate(DicomTag.StudyTime, new TimeOnly(10, 30));
        ds.AddOrUpdate(DicomTag.Modality, modality);
        ds.AddOrUpdate(DicomTag.AccessionNumber, "");
        ds.AddOrUpdate(DicomTag.StudyDescription, studyDescription ?? "Scanner thorax");
        ds.AddOrUpdate(DicomTag.PatientName, DicomPersonName.FromComponents(patient.FamilyName, patient.GivenName));
        ds.AddOrUpdate(DicomTag.PatientID, patient.PatientId);
        ds.AddOrUpdate(DicomTag.PatientBirthDate, new DateOnly(1961, 4, 2));
        ds.AddOrUpdate(DicomTag.PatientSex, "F");
        ds.AddOrUpdate(DicomTag.StudyInstanceUID, studyUid);
        ds.AddOrUpdate(DicomTag.SeriesInstanceUID, seriesUid);
        ds.AddOrUpdate(DicomTag.StudyID, "1");
        ds.AddOrUpdate(DicomTag.SeriesNumber, "1");
        ds.AddOrUpdate(DicomTag.InstanceNumber, "1");
        ds.AddOrUpdate(DicomTag.SamplesPerPixel, (ushort)1);
        ds.AddOrUpdate(DicomTag.PhotometricInterpretation, "MONOCHROME2");
        ds.AddOrUpdate(DicomTag.Rows, (ushort)size);
        ds.AddOrUpdate(DicomTag.Columns, (ushort)size);
        ds.AddOrUpdate(DicomTag.BitsAllocated, (ushort)16);
        ds.AddOrUpdate(DicomTag.BitsStored, (ushort)16);
        ds.AddOrUpdate(DicomTag.HighBit, (ushort)15);
        ds.AddOrUpdate(DicomTag.PixelRepresentation, (ushort)0);
        var pixels = new byte[size * size * 2];
        Random.Shared.NextBytes(pixels);
        ds.AddOrUpdate(DicomTag.PixelData, DicomVR.OW, pixels);
        var path = Path.Combine(directory, instanceUid + ".dcm");
        await using var stream = File.Create(path);
        await new DicomFile(ds).SaveAsync(stream);
        return path;
    }
}
