using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Networking;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Dicom.Networking.Dimse;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.Dicom.Networking.UpperLayer;
using ServerlessImaging.Dicom.Web;
using ServerlessImaging.Dicom.Web.Authentication;
using ServerlessImaging.Dicom.Web.Qido;
using ServerlessImaging.Relay.Configuration;
using ServerlessImaging.Relay.Diagnostics;
using ServerlessImaging.Relay.Spool;

namespace ServerlessImaging.Relay.Delivery;

/// <summary>Counts of a running delivery, read by the progress reporter while the delivery updates them.</summary>
public sealed class DeliveryTally
{
    private int _done;
    private int _total;
    private long _bytes;

    /// <summary>Instances at the destination (sent now, or found there).</summary>
    public int Done => Volatile.Read(ref _done);

    /// <summary>Instances to deliver in all (0 until the source was listed).</summary>
    public int Total => Volatile.Read(ref _total);

    /// <summary>Bytes sent by this run.</summary>
    public long BytesSent => Interlocked.Read(ref _bytes);

    internal void Start(int total, int alreadyDone)
    {
        Volatile.Write(ref _total, total);
        Volatile.Write(ref _done, alreadyDone);
    }

    internal void Sent(long bytes)
    {
        Interlocked.Increment(ref _done);
        Interlocked.Add(ref _bytes, bytes);
    }
}

/// <summary>
/// Runs a <see cref="DeliverStudyCommand"/>: checks the destination and source against the relay's own allow-lists,
/// lists the study by QIDO-RS (SOP instances, series, SOP classes), skips what the destination's image-level C-FIND says
/// is there (or, for a destination that does not answer C-FIND, what the delivery journal recorded), then reads the rest by WADO-RS one series at a time and C-STOREs
/// each instance as its part streams in: the data set bytes go from the HTTP response to the association PDU by PDU,
/// unchanged, so memory does not grow with the study. One association, proposing per SOP class the syntax met so far
/// (Explicit VR Little Endian to begin with); an instance in a syntax not yet proposed re-opens the association with it
/// added, once. Each acknowledged instance is journaled at once, so a restarted relay sends only what is missing.
/// </summary>
public sealed class DeliveryRunner(RelayOptions options, DeliveryJournals journals, RelayMetrics metrics, TimeProvider time, ILogger<DeliveryRunner> logger)
{
    /// <summary>The AE title the relay calls destinations with.</summary>
    public string CallingAeTitle => string.IsNullOrWhiteSpace(options.Delivery.CallingAeTitle) ? options.Pacs.CallingAeTitle : options.Delivery.CallingAeTitle;

    /// <summary>True when the destination is in the relay's allow-list (AE title exactly, host without case, port).</summary>
    public static bool IsAllowed(DeliverySettings settings, DeliveryDestination destination)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(destination);
        return settings.AllowedDestinations.Any(node =>
            string.Equals(node.AeTitle.Trim(), destination.AeTitle.Trim(), StringComparison.Ordinal)
            && string.Equals(node.Host.Trim(), destination.Host.Trim(), StringComparison.OrdinalIgnoreCase)
            && node.Port == destination.Port);
    }

    /// <summary>True when the DICOMweb base URL is one of the relay's allowed sources (trailing slash ignored).</summary>
    public static bool IsAllowedSource(DeliverySettings settings, Uri source)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(source);
        return source.IsAbsoluteUri && string.IsNullOrEmpty(source.UserInfo) && string.IsNullOrEmpty(source.Query)
            && settings.AllowedSources.Any(allowed => allowed.IsAbsoluteUri
                && string.Equals(allowed.Scheme, source.Scheme, StringComparison.OrdinalIgnoreCase)
                && string.Equals(allowed.IdnHost, source.IdnHost, StringComparison.OrdinalIgnoreCase)
                && allowed.Port == source.Port
                && string.Equals(allowed.AbsolutePath.TrimEnd('/'), source.AbsolutePath.TrimEnd('/'), StringComparison.Ordinal));
    }

    /// <summary>
    /// Opens the delivery journal of the command after checking it against the allow-lists (nothing is written for a
    /// refused command). Hold it for the whole command and delete it once the completion is sent.
    /// </summary>
    public async Task<SpoolJournal<DeliveredInstance>> OpenJournalAsync(DeliverStudyCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        Check(command);
        return await journals.OpenAsync(command.StudyInstanceUid, command.Destination, cancellationToken);
    }

    /// <summary>Delivers the study; throws <see cref="DeliveryException"/> (or cancellation) when it cannot.</summary>
    public async Task<DeliveryCompleted> RunAsync(string commandId, DeliverStudyCommand command, SpoolJournal<DeliveredInstance> journal, DeliveryTally tally, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(tally);
        Check(command);
        using var source = DicomWebClient.Create(new DicomWebClientOptions
        {
            BaseAddress = command.Source.DicomWebBaseUrl,
            Authentication = command.Credential.BearerToken is { Length: > 0 } token ? DicomWebAuthentication.BearerToken(token) : DicomWebAuthentication.None,
            AttemptTimeout = TimeSpan.FromSeconds(Math.Max(30, options.Pacs.DimseTimeoutSeconds)),
        });

        var listed = await ListSourceAsync(source, command.StudyInstanceUid, cancellationToken);
        var expected = Expected(command, listed);
        var fromJournal = journal.Recorded.Keys.Where(expected.ContainsKey).ToHashSet(StringComparer.Ordinal);
        var atDestination = options.Delivery.QueryDestination
            ? await QueryDestinationAsync(command, cancellationToken)
            : null;

        // The destination's own answer wins over the journal when it gives one: an instance it acknowledged but does not
        // list (its store cut short when the relay was killed, or removed there since) is sent again. The journal decides
        // alone only for a destination that does not answer C-FIND.
        var present = atDestination is null ? fromJournal : atDestination.Where(expected.ContainsKey).ToHashSet(StringComparer.Ordinal);
        metrics.DeliveryInstancesSkipped(atDestination is null ? present.Count : 0, "journal");
        metrics.DeliveryInstancesSkipped(atDestination is null ? 0 : present.Count, "destination");
        tally.Start(expected.Count, present.Count);
        logger.LogInformation(
            "Delivery {CommandId}: {Total} instance(s), {Journal} recorded by an earlier attempt, {Destination} listed by the destination ({Decides} decides)",
            commandId, expected.Count, fromJournal.Count, atDestination is null ? "not" : present.Count, atDestination is null ? "the journal" : "the destination");

        var missing = expected.Where(e => !present.Contains(e.Key)).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        var sent = 0;
        if (missing.Count > 0)
        {
            await using var destination = new DestinationAssociation(Client(command.Destination), missing.Values.Select(i => i.SopClassUid));
            foreach (var series in missing.Values.GroupBy(i => i.SeriesInstanceUid, StringComparer.Ordinal))
            {
                var wanted = series.Select(i => i.SopInstanceUid).ToHashSet(StringComparer.Ordinal);
                sent += await DeliverSeriesAsync(source, command.StudyInstanceUid, series.Key, wanted, destination, journal, tally, cancellationToken);
                if (wanted.Count > 0)
                {
                    throw new DeliveryException(DeliveryFailureReason.SourceUnreachable, true, $"The DICOM service listed {wanted.Count} instance(s) of a series that its WADO-RS response did not contain.");
                }
            }

            await destination.ReleaseAsync(cancellationToken);
        }

        return new DeliveryCompleted(command.StudyInstanceUid, expected.Count, sent, expected.Count - missing.Count, tally.BytesSent, command.Source.DicomWebBaseUrl, CallingAeTitle, command.Destination);
    }

    private void Check(DeliverStudyCommand command)
    {
        if (!Part10Header.IsValidUid(command.StudyInstanceUid) || command.ExpectedSopInstanceUids.Any(uid => !Part10Header.IsValidUid(uid)) || command.ExpectedInstanceCount is < 0)
        {
            throw new DeliveryException(DeliveryFailureReason.InvalidCommand, false, "The delivery command carries an invalid UID or count.");
        }

        if (command.Credential.BearerToken is { } token && !IsBearerToken(token))
        {
            throw new DeliveryException(DeliveryFailureReason.InvalidCommand, false, "The delivery command carries a malformed bearer token.");
        }

        if (!IsAllowed(options.Delivery, command.Destination))
        {
            throw new DeliveryException(DeliveryFailureReason.DestinationNotAllowed, false, "The destination is not in this relay's Relay:Delivery:AllowedDestinations.");
        }

        if (!IsAllowedSource(options.Delivery, command.Source.DicomWebBaseUrl))
        {
            throw new DeliveryException(DeliveryFailureReason.SourceNotAllowed, false, "The DICOM service is not in this relay's Relay:Delivery:AllowedSources.");
        }

        if (command.Credential.ExpiresAt <= time.GetUtcNow())
        {
            throw new DeliveryException(DeliveryFailureReason.CredentialRejected, true, "The DICOM service credential had expired when the delivery started.");
        }
    }

    /// <summary>RFC 6750 b64token: what may follow "Bearer " in a header (rules out spaces and line breaks).</summary>
    private static bool IsBearerToken(string token)
    {
        var body = token.TrimEnd('=');
        return body.Length > 0 && body.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+' or '/');
    }

    private static async Task<Dictionary<string, SourceInstance>> ListSourceAsync(DicomWebClient source, string studyUid, CancellationToken cancellationToken)
    {
        var listed = new Dictionary<string, SourceInstance>(StringComparer.Ordinal);
        try
        {
            var query = QidoQuery.Instances(studyUid).Include(DicomTag.SeriesInstanceUID).Include(DicomTag.SOPClassUID).WithPageSize(1000);
            await foreach (var instance in source.SearchAsync(query, cancellationToken))
            {
                if (instance.GetStringOrDefault(DicomTag.SOPInstanceUID) is { Length: > 0 } sop
                    && instance.GetStringOrDefault(DicomTag.SeriesInstanceUID) is { Length: > 0 } series
                    && instance.GetStringOrDefault(DicomTag.SOPClassUID) is { Length: > 0 } sopClass)
                {
                    listed[sop] = new SourceInstance(series, sop, sopClass);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw DeliveryFailures.FromSource(ex);
        }

        return listed.Count > 0
            ? listed
            : throw new DeliveryException(DeliveryFailureReason.SourceNotFound, false, "The study is not in the DICOM service.");
    }

    private static Dictionary<string, SourceInstance> Expected(DeliverStudyCommand command, Dictionary<string, SourceInstance> listed)
    {
        if (command.ExpectedSopInstanceUids.Count == 0)
        {
            // The DICOM service may still be indexing a study just stored: worth another try later.
            return command.ExpectedInstanceCount is { } count && count != listed.Count
                ? throw new DeliveryException(DeliveryFailureReason.SourceNotFound, true, $"The DICOM service lists {listed.Count} instance(s) of the study, {count} expected.")
                : listed;
        }

        var expected = new Dictionary<string, SourceInstance>(StringComparer.Ordinal);
        foreach (var uid in command.ExpectedSopInstanceUids)
        {
            if (listed.TryGetValue(uid, out var instance))
            {
                expected[uid] = instance;
            }
        }

        var absent = command.ExpectedSopInstanceUids.Distinct(StringComparer.Ordinal).Count() - expected.Count;
        return absent == 0
            ? expected
            : throw new DeliveryException(DeliveryFailureReason.SourceNotFound, false, $"{absent} expected instance(s) are not in the DICOM service.");
    }

    // The SOP instances the destination lists for the study, or null when it does not answer C-FIND.
    private async Task<HashSet<string>?> QueryDestinationAsync(DeliverStudyCommand command, CancellationToken cancellationToken)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        var keys = new DicomDataset()
            .AddOrUpdate(DicomTag.StudyInstanceUID, command.StudyInstanceUid)
            .AddOrUpdate(DicomTag.SeriesInstanceUID, string.Empty)
            .AddOrUpdate(DicomTag.SOPInstanceUID, string.Empty);
        try
        {
            await foreach (var match in Client(command.Destination).FindAsync(QueryModel.StudyRoot, QueryRetrieveLevel.Image, keys, cancellationToken))
            {
                if (match.GetStringOrDefault(DicomTag.SOPInstanceUID) is { Length: > 0 } sop)
                {
                    present.Add(sop);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A node that cannot be reached will not take the stores either: fail now, transient.
            if (Innermost(ex) is SocketException or DicomTimeoutException)
            {
                throw DeliveryFailures.FromDestination(ex)!;
            }

            // Many reading consoles do not answer C-FIND (or not to us): the journal is then the only record.
            logger.LogInformation("Destination did not answer the image-level C-FIND ({Error}); relying on the delivery journal", ex.GetType().Name);
            return null;
        }

        return present;
    }

    private async Task<int> DeliverSeriesAsync(DicomWebClient source, string studyUid, string seriesUid, HashSet<string> wanted, DestinationAssociation destination, SpoolJournal<DeliveredInstance> journal, DeliveryTally tally, CancellationToken cancellationToken)
    {
        Dicom.Web.Wado.WadoResponse response;
        try
        {
            response = await source.RetrieveAsync(studyUid, seriesUid, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw DeliveryFailures.FromSource(ex);
        }

        var sent = 0;
        await using (response)
        {
            while (true)
            {
                Dicom.Web.Multipart.MultipartPart? part;
                try
                {
                    part = await response.ReadNextPartAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    throw DeliveryFailures.FromSource(ex);
                }

                if (part is null)
                {
                    return sent;
                }

                var body = new SourceStream(part.Body);
                FileMetaInfo meta;
                try
                {
                    meta = await Part10Header.ReadAsync(body, cancellationToken);
                }
                catch (InvalidPart10FileException ex)
                {
                    throw new DeliveryException(DeliveryFailureReason.SourceUnreachable, true, "The DICOM service sent a part that is not a DICOM Part 10 instance.", ex);
                }
                catch (SourceReadException ex)
                {
                    throw DeliveryFailures.FromSource(ex.InnerException!);
                }

                if (!wanted.Remove(meta.SopInstanceUid))
                {
                    continue; // delivered already, or not expected: the reader skips the rest of the part
                }

                await StoreAsync(destination, meta, body, cancellationToken);
                await journal.AppendAsync(new DeliveredInstance(meta.SopInstanceUid, body.BytesRead), CancellationToken.None); // recorded even if the delivery is being cancelled: the destination has it
                tally.Sent(body.BytesRead);
                metrics.InstanceDelivered(body.BytesRead);
                sent++;
            }
        }
    }

    private static async Task StoreAsync(DestinationAssociation destination, FileMetaInfo meta, SourceStream body, CancellationToken cancellationToken)
    {
        ushort status;
        try
        {
            var (association, context) = await destination.ContextForAsync(meta.SopClassUid, meta.TransferSyntaxUid, cancellationToken);
            if (context is not { } pcid)
            {
                throw new DeliveryException(DeliveryFailureReason.DestinationRefused, false, $"The destination accepts SOP class {meta.SopClassUid} in no syntax the instance is stored in ({meta.TransferSyntaxUid}); the relay does not transcode.");
            }

            status = (await DicomClient.StoreOneAsync(association, pcid, meta.SopClassUid, meta.SopInstanceUid, body, cancellationToken)).Status;
        }
        catch (SourceReadException ex)
        {
            throw DeliveryFailures.FromSource(ex.InnerException!);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && DeliveryFailures.FromDestination(ex) is { } failure)
        {
            throw failure;
        }

        if (!DimseStatus.IsSuccess(status) && !DimseStatus.IsWarning(status))
        {
            throw new DeliveryException(DeliveryFailureReason.DestinationRefused, false, $"The destination answered a C-STORE with failure status 0x{status:X4}.");
        }
    }

    private DicomClient Client(DeliveryDestination destination) => new(new DicomClientOptions
    {
        Host = destination.Host,
        Port = destination.Port,
        CallingAeTitle = CallingAeTitle,
        CalledAeTitle = destination.AeTitle,
        Association = new AssociationOptions
        {
            ArtimTimeout = TimeSpan.FromSeconds(options.Pacs.ConnectTimeoutSeconds),
            DimseTimeout = TimeSpan.FromSeconds(options.Pacs.DimseTimeoutSeconds),
        },
    });

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is { } inner)
        {
            ex = inner;
        }

        return ex;
    }

    private sealed record SourceInstance(string SeriesInstanceUid, string SopInstanceUid, string SopClassUid);

    /// <summary>
    /// The association to the destination: proposes one context per (SOP class, transfer syntax) met, each offering that
    /// syntax alone so an accepted context means the bytes go out unchanged. Starts with Explicit VR Little Endian for the
    /// SOP classes QIDO-RS listed; a syntax met later re-opens the association once with it added.
    /// </summary>
    private sealed class DestinationAssociation(DicomClient client, IEnumerable<string> sopClasses) : IAsyncDisposable
    {
        private const int MaxContexts = 128;
        private readonly List<(string SopClass, string Syntax)> _proposed =
            [.. sopClasses.Distinct(StringComparer.Ordinal).Take(MaxContexts).Select(c => (c, DicomUids.ExplicitVrLittleEndian))];

        private DicomAssociation? _current;

        public async Task<(DicomAssociation Association, byte? Context)> ContextForAsync(string sopClass, string syntax, CancellationToken cancellationToken)
        {
            if (_current is { IsOpen: true } open && Accepted(open, sopClass, syntax) is { } id)
            {
                return (open, id);
            }

            var isNew = !_proposed.Contains((sopClass, syntax));
            if (isNew)
            {
                if (_proposed.Count >= MaxContexts)
                {
                    throw new DeliveryException(DeliveryFailureReason.DestinationRefused, false, "The study needs more than 128 presentation contexts.");
                }

                _proposed.Add((sopClass, syntax));
            }
            else if (_current is { IsOpen: true } same)
            {
                return (same, null); // proposed on this association and refused
            }

            await CloseAsync(cancellationToken);
            _current = await client.OpenAsync(_proposed.Select(p => (p.SopClass, (IReadOnlyList<string>)[p.Syntax])), ct: cancellationToken);
            return (_current, Accepted(_current, sopClass, syntax));
        }

        public async Task ReleaseAsync(CancellationToken cancellationToken) => await CloseAsync(cancellationToken);

        public async ValueTask DisposeAsync()
        {
            if (_current is not null)
            {
                await _current.DisposeAsync();
                _current = null;
            }
        }

        private async Task CloseAsync(CancellationToken cancellationToken)
        {
            if (_current is null)
            {
                return;
            }

            try
            {
                if (_current.IsOpen)
                {
                    await _current.ReleaseAsync(cancellationToken);
                }
            }
            finally
            {
                await _current.DisposeAsync();
                _current = null;
            }
        }

        private static byte? Accepted(DicomAssociation association, string sopClass, string syntax)
        {
            foreach (var (id, accepted) in association.AcceptedContextsFor(sopClass))
            {
                if (accepted == syntax)
                {
                    return id;
                }
            }

            return null;
        }
    }

    /// <summary>A failure reading the DICOM service's response, told apart from a failure writing to the destination.</summary>
    private sealed class SourceReadException(Exception inner) : IOException("Reading the DICOM service's response failed.", inner);

    /// <summary>The part's body as the association reads it: counts the bytes and marks read failures as the source's.</summary>
    private sealed class SourceStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                var read = inner.Read(buffer);
                BytesRead += read;
                return read;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new SourceReadException(ex);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                var read = await inner.ReadAsync(buffer, cancellationToken);
                BytesRead += read;
                return read;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new SourceReadException(ex);
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
