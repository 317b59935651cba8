using System.Diagnostics;
using System.Net.Security;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.Dicom.Networking.UpperLayer;
using ServerlessImaging.Relay.Configuration;

namespace ServerlessImaging.Relay.Pacs;

/// <summary>One instance of a study, as an image-level C-FIND lists it.</summary>
public sealed record PacsInstance(string SeriesInstanceUid, string SopInstanceUid);

/// <summary>
/// Everything the relay asks of its PACS, over the toolkit's DIMSE client: echo, study/series/image
/// C-FIND, and C-MOVE / C-GET of a study or series. The C-FINDs of one command share an association
/// (<see cref="OpenQueriesAsync"/>); every other call opens its own.
/// </summary>
public sealed class PacsGateway
{
    private readonly RelayOptions _options;

    /// <summary>Creates the gateway.</summary>
    public PacsGateway(RelayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    private DicomClient Client()
    {
        var pacs = _options.Pacs;
        return new DicomClient(new DicomClientOptions
        {
            Host = pacs.Host,
            Port = pacs.Port,
            CallingAeTitle = pacs.CallingAeTitle,
            CalledAeTitle = pacs.AeTitle,
            Association = new AssociationOptions
            {
                ArtimTimeout = TimeSpan.FromSeconds(pacs.ConnectTimeoutSeconds),
                DimseTimeout = TimeSpan.FromSeconds(pacs.DimseTimeoutSeconds),
                TlsClient = pacs.Tls.Enabled ? new SslClientAuthenticationOptions { TargetHost = pacs.Tls.ServerName ?? pacs.Host } : null,
            },
        });
    }

    /// <summary>C-ECHO; returns the round trip time.</summary>
    public async Task<TimeSpan> EchoAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var status = await Client().EchoAsync(cancellationToken);
        if (status != 0)
        {
            throw new Dicom.Networking.Dimse.DimseFailureException(Dicom.Networking.Dimse.CommandField.CEchoResponse, status, null);
        }

        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>One association (Study Root C-FIND) for the queries of one command; dispose to release it.</summary>
    public Task<DicomQuerySession> OpenQueriesAsync(CancellationToken cancellationToken) =>
        Client().OpenQuerySessionAsync(QueryModel.StudyRoot, cancellationToken);

    /// <summary>Study-level C-FIND with the broad patient keys and date range; yields raw results.</summary>
    public static IAsyncEnumerable<DicomDataset> FindStudiesAsync(DicomQuerySession queries, FindStudiesCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(command);
        var keys = new DicomDataset();
        // UTF-8 so accented name patterns survive; PACS without it ignore the term or answer in their own set.
        keys.AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 192");
        keys.AddOrUpdate(DicomTag.PatientName, PersonNamePattern(command.Patient));
        keys.AddOrUpdate(DicomTag.PatientID, string.Empty);
        keys.AddOrUpdate(DicomTag.IssuerOfPatientID, string.Empty);
        keys.AddOrUpdate(DicomTag.PatientBirthDate, command.Patient.BirthDate);
        keys.AddOrUpdate(DicomTag.PatientSex, command.Patient.Sex);
        keys.AddOrUpdate(DicomTag.PatientBirthName, string.Empty);
        keys.AddOrUpdate(DicomTag.StudyInstanceUID, string.Empty);
        keys.AddOrUpdate(DicomTag.StudyDate, DateRange(command.StudyDateFrom, command.StudyDateTo));
        keys.AddOrUpdate(DicomTag.StudyDescription, string.Empty);
        keys.AddOrUpdate(DicomTag.ModalitiesInStudy, string.Empty);
        keys.AddOrUpdate(DicomTag.NumberOfStudyRelatedSeries, string.Empty);
        keys.AddOrUpdate(DicomTag.NumberOfStudyRelatedInstances, string.Empty);
        return queries.FindAsync(QueryRetrieveLevel.Study, keys, cancellationToken);
    }

    /// <summary>Series-level C-FIND under one study.</summary>
    public static IAsyncEnumerable<DicomDataset> FindSeriesAsync(DicomQuerySession queries, string studyInstanceUid, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var keys = new DicomDataset()
            .AddOrUpdate(DicomTag.StudyInstanceUID, studyInstanceUid)
            .AddOrUpdate(DicomTag.SeriesInstanceUID, string.Empty)
            .AddOrUpdate(DicomTag.Modality, string.Empty)
            .AddOrUpdate(DicomTag.SeriesNumber, string.Empty)
            .AddOrUpdate(DicomTag.SeriesDescription, string.Empty)
            .AddOrUpdate(DicomTag.NumberOfSeriesRelatedInstances, string.Empty);
        return queries.FindAsync(QueryRetrieveLevel.Series, keys, cancellationToken);
    }

    /// <summary>Image-level C-FIND: every instance of a study (or of one series).</summary>
    public static async Task<IReadOnlyList<PacsInstance>> FindInstancesAsync(DicomQuerySession queries, string studyInstanceUid, string? seriesInstanceUid, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var keys = new DicomDataset()
            .AddOrUpdate(DicomTag.StudyInstanceUID, studyInstanceUid)
            .AddOrUpdate(DicomTag.SeriesInstanceUID, seriesInstanceUid ?? string.Empty)
            .AddOrUpdate(DicomTag.SOPInstanceUID, string.Empty);
        var instances = new List<PacsInstance>();
        await foreach (var match in queries.FindAsync(QueryRetrieveLevel.Image, keys, cancellationToken))
        {
            var series = match.GetStringOrDefault(DicomTag.SeriesInstanceUID);
            var sop = match.GetStringOrDefault(DicomTag.SOPInstanceUID);
            if (!string.IsNullOrEmpty(series) && !string.IsNullOrEmpty(sop))
            {
                instances.Add(new PacsInstance(series, sop));
            }
        }

        return instances;
    }

    /// <summary>C-MOVE of a study or series to the relay's own SCP.</summary>
    public Task<RetrieveResult> MoveAsync(string studyInstanceUid, string? seriesInstanceUid, IProgress<SubOperationProgress>? progress, CancellationToken cancellationToken)
    {
        var (level, keys) = DicomClient.RetrieveKeys(studyInstanceUid, seriesInstanceUid);
        return Client().MoveAsync(QueryModel.StudyRoot, level, keys, _options.Scp.AeTitle, progress, cancellationToken);
    }

    /// <summary>C-GET of a study or series, instances streamed into <paramref name="sink"/>.</summary>
    public Task<RetrieveResult> GetAsync(string studyInstanceUid, string? seriesInstanceUid, IInstanceSink sink, IProgress<SubOperationProgress>? progress, CancellationToken cancellationToken)
    {
        var (level, keys) = DicomClient.RetrieveKeys(studyInstanceUid, seriesInstanceUid);
        return Client().GetAsync(QueryModel.StudyRoot, level, keys, sink, progress, cancellationToken);
    }

    private static string PersonNamePattern(PatientQueryKeys patient)
    {
        if (string.IsNullOrWhiteSpace(patient.FamilyName) && string.IsNullOrWhiteSpace(patient.GivenName))
        {
            return string.Empty;
        }

        // FAMILY^GIVEN with '*' where a part is not given; the cloud matches strictly afterwards.
        var family = string.IsNullOrWhiteSpace(patient.FamilyName) ? "*" : patient.FamilyName;
        var given = string.IsNullOrWhiteSpace(patient.GivenName) ? "*" : patient.GivenName;
        return given == "*" ? family.TrimEnd('*') + "*" : $"{family}^{given}";
    }

    private static string DateRange(DateOnly? from, DateOnly? to) => (from, to) switch
    {
        (null, null) => string.Empty,
        _ => $"{from?.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture)}-{to?.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture)}",
    };
}
