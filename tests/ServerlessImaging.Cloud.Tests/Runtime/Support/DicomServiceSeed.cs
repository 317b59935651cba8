using ServerlessImaging.Dicom;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Testing.Isolation;

namespace ServerlessImaging.Cloud.Tests.Runtime.Support;

/// <summary>A study of tiny secondary-capture instances written with the toolkit and stored straight into the DICOM service (what a completed store leaves there).</summary>
internal static class DicomServiceSeed
{
    /// <summary>Stores a new study of <paramref name="count"/> instances of one series; returns its UIDs.</summary>
    public static async Task<(string Study, string Series, IReadOnlyList<string> Sops)> StoreStudyAsync(IDicomStore dicom, int count, string patientName = "SEED^Test")
    {
        var study = UniqueNames.DicomUid();
        var series = UniqueNames.DicomUid();
        var sops = Enumerable.Range(0, count).Select(_ => UniqueNames.DicomUid()).ToList();
        var parts = new List<Func<CancellationToken, Task<Stream>>>();
        foreach (var sop in sops)
        {
            var bytes = await new DicomFile(new DicomDataset()
                .AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 192")
                .AddOrUpdate(DicomTag.SOPClassUID, "1.2.840.10008.5.1.4.1.1.7")
                .AddOrUpdate(DicomTag.SOPInstanceUID, sop)
                .AddOrUpdate(DicomTag.StudyInstanceUID, study)
                .AddOrUpdate(DicomTag.SeriesInstanceUID, series)
                .AddOrUpdate(DicomTag.Modality, "OT")
                .AddOrUpdate(DicomTag.PatientName, patientName)
                .AddOrUpdate(DicomTag.PatientID, "SEED-1")).ToBytesAsync();
            parts.Add(_ => Task.FromResult<Stream>(new MemoryStream(bytes)));
        }

        var result = await dicom.StoreAsync(study, parts, CancellationToken.None);
        Assert.Equal(count, result.Stored + result.AlreadyPresent);
        return (study, series, sops);
    }
}
