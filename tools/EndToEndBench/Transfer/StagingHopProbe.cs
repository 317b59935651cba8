using System.Diagnostics;
using Azure.Storage.Blobs;

namespace ServerlessImaging.EndToEndBench.Transfer;

/// <summary>
/// The design's extra hop alone, on this machine and in the same round: the round's bytes written into staging
/// (Azurite) as the relays write them (8 uploads at a time per study, the studies in parallel), then read back once
/// as the store reads them (one reader per study). Our path pays this besides the DIMSE transfer and the STOW-RS that
/// the baseline does too, so it says how much of the gap the staging hop explains.
/// </summary>
internal sealed class StagingHopProbe(string storageConnectionString)
{
    private const int UploadsPerStudy = 8;

    public async Task<TimeSpan> RunAsync(int studies, int instancesPerStudy, int instanceBytes, CancellationToken cancellationToken)
    {
        var container = new BlobContainerClient(storageConnectionString, "e2e-bench-hop-" + Guid.NewGuid().ToString("N")[..12]);
        await container.CreateAsync(cancellationToken: cancellationToken);
        try
        {
            var payload = new byte[instanceBytes];
            Random.Shared.NextBytes(payload);
            var data = new BinaryData(payload);
            var started = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, studies).Select(study => Parallel.ForEachAsync(
                Enumerable.Range(0, instancesPerStudy),
                new ParallelOptions { MaxDegreeOfParallelism = UploadsPerStudy, CancellationToken = cancellationToken },
                async (instance, ct) => await container.GetBlobClient($"{study}/{instance}.dcm").UploadAsync(data, ct))));
            await Task.WhenAll(Enumerable.Range(0, studies).Select(async study =>
            {
                for (var instance = 0; instance < instancesPerStudy; instance++)
                {
                    var download = await container.GetBlobClient($"{study}/{instance}.dcm").DownloadStreamingAsync(cancellationToken: cancellationToken);
                    await using var content = download.Value.Content;
                    await content.CopyToAsync(Stream.Null, cancellationToken);
                }
            }));
            return Stopwatch.GetElapsedTime(started);
        }
        finally
        {
            await container.DeleteIfExistsAsync(cancellationToken: CancellationToken.None);
        }
    }
}
