using ServerlessImaging.Dicom;
using ServerlessImaging.RegionGenerator.Manifest;

namespace ServerlessImaging.RegionGenerator.Writing;

/// <summary>
/// Writes one instance as a Part 10 file (preamble, "DICM", file meta group, Explicit VR Little Endian dataset).
/// Encoding is entirely the toolkit's DicomDatasetWriter; only the PS3.10 7.1 framing is assembled here,
/// until the toolkit exposes a file writer.
/// </summary>
internal static class InstanceFileWriter
{
    private static readonly byte[] PreambleAndPrefix = CreatePreamble();

    public static async Task<long> WriteAsync(
        string path, ManifestPatient patient, ManifestPatientRecord record, ManifestStudy study, ManifestSeries series, ManifestInstance instance, byte[] pixels, CancellationToken ct)
    {
        var dataset = InstanceDatasetFactory.Create(patient, record, study, series, instance, pixels);
        var meta = FileMeta(series.SopClassUid, instance.SopInstanceUid, DicomTransferSyntax.ExplicitVRLittleEndian);

        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
        await file.WriteAsync(PreambleAndPrefix, ct);
        await DicomDatasetWriter.WriteAsync(file, meta, DicomTransferSyntax.ExplicitVRLittleEndian, ct);
        await DicomDatasetWriter.WriteAsync(file, dataset, DicomTransferSyntax.ExplicitVRLittleEndian, ct);
        return file.Length;
    }

    private static DicomDataset FileMeta(string sopClassUid, string sopInstanceUid, DicomTransferSyntax syntax)
    {
        var meta = new DicomDataset();
        meta.AddOrUpdate(DicomTag.FileMetaInformationVersion, DicomVR.OB, new byte[] { 0x00, 0x01 });
        meta.AddOrUpdate(DicomTag.MediaStorageSOPClassUID, sopClassUid);
        meta.AddOrUpdate(DicomTag.MediaStorageSOPInstanceUID, sopInstanceUid);
        meta.AddOrUpdate(DicomTag.TransferSyntaxUID, syntax.Uid);
        meta.AddOrUpdate(DicomTag.ImplementationClassUID, DicomUid.ImplementationClassUid);
        meta.AddOrUpdate(DicomTag.ImplementationVersionName, DicomUid.ImplementationVersionName);
        // Group length counts the meta elements that follow it (always Explicit VR LE).
        var length = DicomDatasetWriter.CalculateLength(meta, DicomTransferSyntax.ExplicitVRLittleEndian);
        var groupLength = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(groupLength, checked((uint)length));
        meta.AddOrUpdate(DicomTag.FileMetaInformationGroupLength, DicomVR.UL, groupLength);
        return meta;
    }

    private static byte[] CreatePreamble()
    {
        var bytes = new byte[132];
        "DICM"u8.CopyTo(bytes.AsSpan(128));
        return bytes;
    }
}
