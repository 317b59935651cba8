using System.Globalization;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom;

using ServerlessImaging.Dicom.Networking.Client;

namespace ServerlessImaging.Relay.Pacs;

/// <summary>
/// FindStudies and ListSeries: C-FIND results turned into contract records. Where the PACS leaves out
/// ModalitiesInStudy or the study/series counts (dcmqrscp does), they are completed with series-level and,
/// if needed, image-level queries, so every PACS answers the cloud with the same shape. The modality and date
/// filters are applied here too: PACS differ in how they match them.
/// </summary>
public sealed class StudyQueries(PacsGateway pacs)
{
    /// <summary>Studies matching the command's keys and filters.</summary>
    public async Task<StudiesFound> FindStudiesAsync(FindStudiesCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        // One association for the study search and the series (and image) queries it may need.
        await using var queries = await pacs.OpenQueriesAsync(cancellationToken);
        var raw = new List<DicomDataset>();
        await foreach (var match in PacsGateway.FindStudiesAsync(queries, command, cancellationToken))
        {
            raw.Add(match);
        }

        var studies = new List<FoundStudy>(raw.Count);
        foreach (var match in raw)
        {
            var studyUid = Text(match, DicomTag.StudyInstanceUID);
            if (studyUid is null)
            {
                continue;
            }

            IReadOnlyList<string> modalities = Strings(match, DicomTag.ModalitiesInStudy);
            var seriesCount = Int(match, DicomTag.NumberOfStudyRelatedSeries);
            var instanceCount = Int(match, DicomTag.NumberOfStudyRelatedInstances);
            if (modalities.Count == 0 || seriesCount is null || instanceCount is null)
            {
                var series = await ListSeriesAsync(queries, studyUid, cancellationToken);
                modalities = modalities.Count > 0 ? modalities : series.Series.Select(s => s.Modality).OfType<string>().Where(m => m.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
                seriesCount ??= series.Series.Count;
                instanceCount ??= series.Series.All(s => s.NumberOfInstances is not null) ? series.Series.Sum(s => s.NumberOfInstances!.Value) : null;
            }

            var studyDate = Date(match, DicomTag.StudyDate);
            if (!PassesFilters(command, modalities, studyDate))
            {
                continue;
            }

            studies.Add(new FoundStudy(Patient(match), studyUid, studyDate, Text(match, DicomTag.StudyDescription), modalities, seriesCount, instanceCount));
        }

        return new StudiesFound(studies);
    }

    /// <summary>The series of one study, counts completed by an image-level query where the PACS does not give them.</summary>
    public async Task<SeriesListed> ListSeriesAsync(ListSeriesCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        await using var queries = await pacs.OpenQueriesAsync(cancellationToken);
        return await ListSeriesAsync(queries, command.StudyInstanceUid, cancellationToken);
    }

    private static async Task<SeriesListed> ListSeriesAsync(DicomQuerySession queries, string studyInstanceUid, CancellationToken cancellationToken)
    {
        var series = new List<FoundSeries>();
        await foreach (var match in PacsGateway.FindSeriesAsync(queries, studyInstanceUid, cancellationToken))
        {
            if (Text(match, DicomTag.SeriesInstanceUID) is { } uid)
            {
                series.Add(new FoundSeries(uid, Text(match, DicomTag.Modality), Int(match, DicomTag.SeriesNumber), Text(match, DicomTag.SeriesDescription), Int(match, DicomTag.NumberOfSeriesRelatedInstances)));
            }
        }

        if (series.Count > 0 && series.Any(s => s.NumberOfInstances is null))
        {
            var counts = (await PacsGateway.FindInstancesAsync(queries, studyInstanceUid, null, cancellationToken))
                .GroupBy(i => i.SeriesInstanceUid, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            series = series.Select(s => s.NumberOfInstances is null ? s with { NumberOfInstances = counts.GetValueOrDefault(s.SeriesInstanceUid) } : s).ToList();
        }

        return new SeriesListed(studyInstanceUid, series.OrderBy(s => s.SeriesNumber ?? int.MaxValue).ThenBy(s => s.SeriesInstanceUid, StringComparer.Ordinal).ToList());
    }

    private static bool PassesFilters(FindStudiesCommand command, IReadOnlyList<string> modalities, DateOnly? studyDate)
    {
        if (command.Modalities.Count > 0 && !modalities.Any(m => command.Modalities.Contains(m, StringComparer.OrdinalIgnoreCase)))
        {
            return false;
        }

        if ((command.StudyDateFrom is not null || command.StudyDateTo is not null) && studyDate is null)
        {
            return false;
        }

        return (command.StudyDateFrom is null || studyDate >= command.StudyDateFrom) && (command.StudyDateTo is null || studyDate <= command.StudyDateTo);
    }

    private static PacsPatient Patient(DicomDataset match)
    {
        var others = new List<OtherPatientId>();
        if (match.TryGetSequence(DicomTag.OtherPatientIDsSequence, out var sequence))
        {
            foreach (var item in sequence.Items)
            {
                if (Text(item, DicomTag.PatientID) is { } id)
                {
                    others.Add(new OtherPatientId(id, Text(item, DicomTag.IssuerOfPatientID), Text(item, DicomTag.TypeOfPatientID)));
                }
            }
        }

        return new PacsPatient(
            Text(match, DicomTag.PatientName),
            Text(match, DicomTag.PatientBirthName),
            Text(match, DicomTag.PatientID),
            Text(match, DicomTag.IssuerOfPatientID),
            Date(match, DicomTag.PatientBirthDate),
            Text(match, DicomTag.PatientSex),
            others);
    }

    private static string? Text(DicomDataset ds, DicomTag tag)
    {
        try
        {
            return ds.GetStringOrDefault(tag) is { Length: > 0 } s ? s.Trim() : null;
        }
        catch (DicomException)
        {
            return null; // undecodable text: leave it out rather than fail the whole query
        }
    }

    private static List<string> Strings(DicomDataset ds, DicomTag tag) =>
        ds.Contains(tag) ? ds.GetStrings(tag).Where(s => s.Length > 0).ToList() : [];

    private static int? Int(DicomDataset ds, DicomTag tag) =>
        Text(ds, tag) is { } s && int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static DateOnly? Date(DicomDataset ds, DicomTag tag) =>
        Text(ds, tag) is { Length: 8 } s && DateOnly.TryParseExact(s, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
}
