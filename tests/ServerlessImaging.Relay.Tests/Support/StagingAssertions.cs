using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom;

namespace ServerlessImaging.Relay.Tests.Support;

public static class StagingAssertions
{
    /// <summary>Staging holds exactly the study's instances, the manifest's hashes are the blobs', and each blob carries the PACS's instance (same UIDs, same pixel data).</summary>
    public static async Task AssertStagedExactlyAsync(RelayUnderTest relay, TestStudy study, string prefix, RetrievalCompleted completed)
    {
        var staged = await relay.StagedAsync(prefix);
        var expectedNames = study.SeriesBySop.Keys.Select(sop => $"{prefix}/{sop}.dcm").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedNames, staged.Keys.Order(StringComparer.Ordinal).ToList());
        Assert.Equal(expectedNames, completed.Manifest.Select(m => m.BlobName).Order(StringComparer.Ordinal).ToList());
        Assert.Equal(study.StudyInstanceUid, completed.StudyInstanceUid);

        foreach (var entry in completed.Manifest)
        {
            var bytes = staged[entry.BlobName];
            Assert.Equal(RelayUnderTest.Sha256(bytes), entry.Sha256);
            Assert.Equal(bytes.LongLength, entry.SizeBytes);
            Assert.Equal(study.SeriesBySop[entry.SopInstanceUid], entry.SeriesInstanceUid);

            using var stream = new MemoryStream(bytes);
            var blob = await DicomFile.OpenAsync(stream);
            var source = await DicomFile.OpenAsync(study.FileBySop[entry.SopInstanceUid]);
            Assert.Equal(entry.SopInstanceUid, blob.Dataset.GetString(DicomTag.SOPInstanceUID));
            Assert.Equal(study.StudyInstanceUid, blob.Dataset.GetString(DicomTag.StudyInstanceUID));
            Assert.True(source.Dataset.GetBytes(DicomTag.PixelData).Span.SequenceEqual(blob.Dataset.GetBytes(DicomTag.PixelData).Span), "pixel data differs from the PACS's file");
        }
    }
}
