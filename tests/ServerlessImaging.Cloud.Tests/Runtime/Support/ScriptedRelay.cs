using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Azure.Storage.Blobs;
using ServerlessImaging.Contracts;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Messaging.Storage;
using ServerlessImaging.Messaging.Transport;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Runtime.Support;

/// <summary>
/// Plays a site's relay with the real contracts: takes commands from the site's queue, C-FINDs / C-GETs the real
/// site PACS with the Networking library, uploads instances to staging with the SAS from the command, and posts
/// events to the test's events queue. Not the product relay: no resume, no progress, no cancel.
/// </summary>
internal sealed class ScriptedRelay : IAsyncDisposable
{
    private readonly MessageChannel _channel;
    private readonly string _siteId;
    private readonly SitePacs _pacs;
    private readonly string _eventsQueue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private ScriptedRelay(StackEndpoints endpoints, string siteId, SitePacs pacs, string eventsQueue)
    {
        _channel = CreateChannel(endpoints);
        _siteId = siteId;
        _pacs = pacs;
        _eventsQueue = eventsQueue;
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Command ids received (every delivery, duplicates included).</summary>
    public ConcurrentQueue<string> Received { get; } = new();

    /// <summary>Called before a RetrieveStudy is carried out (tests remove the study from the PACS here).</summary>
    public Func<string, Task>? BeforeRetrieve { get; set; }

    public static ScriptedRelay Start(StackEndpoints endpoints, string siteId, SitePacs pacs, string eventsQueue) => new(endpoints, siteId, pacs, eventsQueue);

    public static MessageChannel CreateChannel(StackEndpoints endpoints) => new(
        new StorageQueueTransport(endpoints.Storage.ConnectionString),
        new BlobMessageBodyStore(new BlobServiceClient(endpoints.Storage.ConnectionString).GetBlobContainerClient(ResourceNames.MessageBodiesContainer)),
        new MessageChannelOptions { CreateQueuesIfMissing = true, MaxPollInterval = TimeSpan.FromMilliseconds(300) });

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        await foreach (var message in _channel.ListenAsync(ResourceNames.CommandQueueFor(_siteId), cancellationToken))
        {
            Received.Enqueue(message.Envelope.MessageId);
            var answer = message.Envelope.Body switch
            {
                FindStudiesCommand find => await FindAsync(find, cancellationToken),
                RetrieveStudyCommand retrieve => await RetrieveAsync(message.Envelope.MessageId, retrieve, cancellationToken),
                _ => null,
            };
            if (answer is not null)
            {
                await _channel.SendAsync(_eventsQueue, Reply(message.Envelope, answer), cancellationToken);
            }

            await _channel.CompleteAsync(message, cancellationToken);
        }
    }

    private MessageEnvelope Reply(MessageEnvelope command, RelayEvent body) =>
        new(command.MessageId + "/" + MessageTypes.NameOf(body), command.CorrelationId, command.MessageId, _siteId, DateTimeOffset.UtcNow, MessageCodec.CurrentSchemaVersion, body);

    /// <summary>The AE title this relay calls the PACS with (C-GET delivers to it).</summary>
    public const string CallingAeTitle = "SI_TEST";

    private DicomClient Client() => new(new DicomClientOptions { Host = _pacs.Host, Port = _pacs.DicomPort, CallingAeTitle = CallingAeTitle, CalledAeTitle = _pacs.AeTitle });

    private async Task<RelayEvent> FindAsync(FindStudiesCommand find, CancellationToken cancellationToken)
    {
        var keys = new DicomDataset()
            .AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 192")
            .AddOrUpdate(DicomTag.PatientBirthDate, find.Patient.BirthDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture))
            .AddOrUpdate(DicomTag.PatientSex, find.Patient.Sex)
            .AddOrUpdate(DicomTag.PatientName, string.Empty)
            .AddOrUpdate(DicomTag.PatientID, string.Empty)
            .AddOrUpdate(DicomTag.StudyInstanceUID, string.Empty)
            .AddOrUpdate(DicomTag.StudyDate, string.Empty)
            .AddOrUpdate(DicomTag.StudyDescription, string.Empty)
            .AddOrUpdate(DicomTag.ModalitiesInStudy, string.Empty)
            .AddOrUpdate(DicomTag.NumberOfStudyRelatedSeries, string.Empty)
            .AddOrUpdate(DicomTag.NumberOfStudyRelatedInstances, string.Empty);
        var studies = new List<FoundStudy>();
        await foreach (var study in Client().FindAsync(QueryModel.StudyRoot, QueryRetrieveLevel.Study, keys, cancellationToken))
        {
            studies.Add(new FoundStudy(
                new PacsPatient(study.GetStringOrDefault(DicomTag.PatientName), null, study.GetStringOrDefault(DicomTag.PatientID), null,
                    TryDate(study, DicomTag.PatientBirthDate), study.GetStringOrDefault(DicomTag.PatientSex), []),
                study.GetString(DicomTag.StudyInstanceUID),
                TryDate(study, DicomTag.StudyDate),
                study.GetStringOrDefault(DicomTag.StudyDescription),
                study.Contains(DicomTag.ModalitiesInStudy) ? study.GetStrings(DicomTag.ModalitiesInStudy) : [],
                TryInt(study, DicomTag.NumberOfStudyRelatedSeries),
                TryInt(study, DicomTag.NumberOfStudyRelatedInstances)));
        }

        return new StudiesFound(studies);
    }

    private async Task<RelayEvent> RetrieveAsync(string commandId, RetrieveStudyCommand retrieve, CancellationToken cancellationToken)
    {
        if (BeforeRetrieve is { } before)
        {
            await before(retrieve.StudyInstanceUid);
        }

        var directory = Directory.CreateTempSubdirectory("si-relay-");
        try
        {
            var (level, keys) = DicomClient.RetrieveKeys(retrieve.StudyInstanceUid);
            await Client().GetAsync(QueryModel.StudyRoot, level, keys, new DirectoryInstanceSink(directory.FullName), ct: cancellationToken);
            var files = directory.GetFiles("*.dcm");
            if (files.Length == 0)
            {
                return new CommandFailed(nameof(RetrieveStudyCommand), FailureReason.StudyNotFound, "The study is no longer in the PACS.");
            }

            var container = new BlobContainerClient(retrieve.Credential.SasUrl);
            var manifest = new List<StagedInstance>();
            foreach (var file in files)
            {
                var bytes = await File.ReadAllBytesAsync(file.FullName, cancellationToken);
                var sop = Path.GetFileNameWithoutExtension(file.Name);
                var name = retrieve.Destination.Prefix + sop + ".dcm";
                await container.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(bytes), overwrite: true, cancellationToken);
                manifest.Add(new StagedInstance(retrieve.StudyInstanceUid + ".series", sop, name, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes))));
            }

            return new RetrievalCompleted(retrieve.StudyInstanceUid, manifest, _pacs.AeTitle, CallingAeTitle);
        }
        catch (Dicom.Networking.Dimse.DimseFailureException ex)
        {
            // As the product relay classifies it: a failure status is the PACS's answer (permanent), not a relay error (retried).
            return new CommandFailed(nameof(RetrieveStudyCommand) + ":" + commandId, FailureReason.PacsRejected, string.Create(CultureInfo.InvariantCulture, $"The PACS answered with failure status 0x{ex.Status:X4}."));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new CommandFailed(nameof(RetrieveStudyCommand) + ":" + commandId, FailureReason.Internal, ex.GetType().Name);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static DateOnly? TryDate(DicomDataset dataset, DicomTag tag)
    {
        try
        {
            return dataset.Contains(tag) && dataset.GetStringOrDefault(tag) is { Length: > 0 } ? dataset.GetDate(tag) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static int? TryInt(DicomDataset dataset, DicomTag tag) =>
        int.TryParse(dataset.GetStringOrDefault(tag)?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}
