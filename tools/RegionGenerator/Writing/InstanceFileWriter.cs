using ServerlessImaging.Dicom;
using ServerlessImaging.RegionGenerator.Manifest;

namespace ServerlessImaging.RegionGenerator.Writing;

/// <summary>Writes one instance as a Part 10 file (Explicit VR Little Endian) with the toolkit's <see cref="DicomFile"/>.</summary>
public static class InstanceFileWriter
{
    public static async Task<long> WriteAsync(
        string path, ManifestPatient patient, ManifestPatientRecord record, ManifestStudy study, ManifestSeries series, ManifestInstance instance, byte[] pixels, CancellationToken ct)
    {
        var dataset = InstanceDatasetFactory.Create(patient, record, study, series, instance, pixels);
        await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
        {
            await new DicomFile(dataset).SaveAsync(file, DicomTransferSyntax.ExplicitVRLittleEndian, ct);
        }
        return new FileInfo(path).Length;
    }
}
