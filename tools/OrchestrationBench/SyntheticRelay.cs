using System.Collections.Concurrent;
using System.Security.Cryptography;
using Azure.Storage.Blobs;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom;
using ServerlessImaging.Messaging.Channel;

namespace ServerlessImaging.OrchestrationBench;

/// <summary>What the synthetic PACS holds for one registration.</summary>
internal sealed record SyntheticStudy(string PatientName, DateOnly BirthDate, string StudyInstanceUid);

/// <summary>
/// A relay with an in-memory PACS, so the benchmark measures the orchestration runtime and the stand-ins it talks to
/// (queues, Cosmos DB, staging blobs, STOW-RS/QIDO-RS), not DIMSE: answers FindStudies at once and uploads one tiny
/// generated instance per RetrieveStudy with the command's SAS.
/// </summary>
internal sealed class SyntheticRelay(MessageChannel channel, string siteId, string eventsQueue, ConcurrentDictionary<string, SyntheticStudy> pacs)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await Parallel.ForEachAsync(channel.ListenAsync(ResourceNames.CommandQueueFor(siteId), cancellationToken), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (message, ct) =>
        {
            var study = pacs[message.Envelope.CorrelationId];
            RelayEvent? answer = message.Envelope.Body switch
            {
                FindStudiesCommand => new StudiesFound([new FoundStudy(new PacsPatient(study.PatientName, null, "BENCH", null, study.BirthDate, "F", []), study.StudyInstanceUid, new DateOnly(2024, 1, 2), "Bench", ["CT"], 1, 1)]),
                RetrieveStudyCommand retrieve => await UploadAsync(study, retrieve, ct),
                _ => null,
            };
            if (answer is not null)
            {
                var reply = new MessageEnvelope(message.Envelope.MessageId + "/" + MessageTypes.NameOf(answer), message.Envelope.CorrelationId, message.Envelope.MessageId, siteId, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion, answer);
                await channel.SendAsync(eventsQueue, reply, ct);
            }

            await channel.CompleteAsync(message, ct);
        });
    }

    private static async Task<RelayEvent> UploadAsync(SyntheticStudy study, RetrieveStudyCommand retrieve, CancellationToken cancellationToken)
    {
        var sop = "2.25." + new System.Numerics.BigInteger(Guid.NewGuid().ToByteArray(), isUnsigned: true);
        var dataset = new DicomDataset()
            .AddOrUpdate(DicomTag.SOPClassUID, "1.2.840.10008.5.1.4.1.1.7")
            .AddOrUpdate(DicomTag.SOPInstanceUID, sop)
            .AddOrUpdate(DicomTag.StudyInstanceUID, study.StudyInstanceUid)
            .AddOrUpdate(DicomTag.SeriesInstanceUID, study.StudyInstanceUid + ".1")
            .AddOrUpdate(DicomTag.PatientName, study.PatientName)
            .AddOrUpdate(DicomTag.PatientID, "BENCH")
            .AddOrUpdate(DicomTag.Modality, "CT");
        var buffer = new MemoryStream();
        await new DicomFile(dataset).SaveAsync(buffer, cancellationToken: cancellationToken);
        var bytes = buffer.ToArray();
        var name = retrieve.Destination.Prefix + sop + ".dcm";
        await new BlobContainerClient(retrieve.Credential.SasUrl).GetBlobClient(name).UploadAsync(BinaryData.FromBytes(bytes), cancellationToken);
        return new RetrievalCompleted(study.StudyInstanceUid, [new StagedInstance(study.StudyInstanceUid + ".1", sop, name, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)))]);
    }
}
