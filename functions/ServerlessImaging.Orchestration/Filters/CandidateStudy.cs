using System.Collections.Immutable;
using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Orchestration.Filters;

/// <summary>
/// One line of the candidate list the clinician ticks: a study, deduplicated across sites by
/// StudyInstanceUID, with every site that holds it (sorted) and the union of what they report.
/// </summary>
public sealed record CandidateStudy(
    string StudyInstanceUid,
    ImmutableArray<string> SiteIds,
    DateOnly? StudyDate,
    string? StudyDescription,
    ImmutableArray<string> Modalities,
    int? NumberOfSeries,
    int? NumberOfInstances)
{
    /// <summary>A candidate from one site's study.</summary>
    public static CandidateStudy From(string siteId, FoundStudy study)
    {
        ArgumentNullException.ThrowIfNull(study);
        return new CandidateStudy(
            study.StudyInstanceUid.Trim(),
            [siteId],
            study.StudyDate,
            string.IsNullOrWhiteSpace(study.StudyDescription) ? null : study.StudyDescription.Trim(),
            NormaliseModalities(study.Modalities),
            study.NumberOfSeries,
            study.NumberOfInstances);
    }

    /// <summary>
    /// Merges the same study seen at another site. Deterministic whatever the order sites answer in:
    /// sites and modalities are sorted unions, counts the maximum, date and description the first known
    /// in site order.
    /// </summary>
    public CandidateStudy MergeWith(CandidateStudy other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!string.Equals(StudyInstanceUid, other.StudyInstanceUid, StringComparison.Ordinal))
        {
            throw new ArgumentException("Only the same study can be merged.", nameof(other));
        }

        var sites = SiteIds.Union(other.SiteIds).Order(StringComparer.Ordinal).ToImmutableArray();
        var first = string.CompareOrdinal(SiteIds[0], other.SiteIds[0]) <= 0 ? this : other;
        var second = ReferenceEquals(first, this) ? other : this;
        return new CandidateStudy(
            StudyInstanceUid,
            sites,
            first.StudyDate ?? second.StudyDate,
            first.StudyDescription ?? second.StudyDescription,
            Modalities.Union(other.Modalities).Order(StringComparer.Ordinal).ToImmutableArray(),
            Max(NumberOfSeries, other.NumberOfSeries),
            Max(NumberOfInstances, other.NumberOfInstances));
    }

    private static int? Max(int? a, int? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private static ImmutableArray<string> NormaliseModalities(IReadOnlyList<string>? modalities) =>
        (modalities ?? []).Select(m => m.Trim().ToUpperInvariant()).Where(m => m.Length > 0).Distinct().Order(StringComparer.Ordinal).ToImmutableArray();
}

/// <summary>
/// Deduplication of candidates across sites. The list is an array sorted by StudyInstanceUID (ordinal),
/// so it serialises and enumerates identically on every machine and in every culture.
/// </summary>
public static class CandidateList
{
    /// <summary>Adds a candidate, merging it with the entry of the same StudyInstanceUID if there is one.</summary>
    public static ImmutableArray<CandidateStudy> Add(ImmutableArray<CandidateStudy> list, CandidateStudy candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var index = IndexOf(list, candidate.StudyInstanceUid);
        return index >= 0 ? list.SetItem(index, list[index].MergeWith(candidate)) : list.Insert(~index, candidate);
    }

    /// <summary>The candidate with this StudyInstanceUID, or null.</summary>
    public static CandidateStudy? Find(ImmutableArray<CandidateStudy> list, string studyInstanceUid)
    {
        var index = IndexOf(list, studyInstanceUid);
        return index >= 0 ? list[index] : null;
    }

    /// <summary>Deduplicates the studies several sites returned (already matched and filtered).</summary>
    public static ImmutableArray<CandidateStudy> Build(IEnumerable<(string SiteId, FoundStudy Study)> found)
    {
        ArgumentNullException.ThrowIfNull(found);
        var list = ImmutableArray<CandidateStudy>.Empty;
        foreach (var (siteId, study) in found)
        {
            list = Add(list, CandidateStudy.From(siteId, study));
        }

        return list;
    }

    // Binary search by ordinal UID; a negative result is the complement of the insertion point.
    private static int IndexOf(ImmutableArray<CandidateStudy> list, string studyInstanceUid)
    {
        int low = 0, high = list.Length - 1;
        while (low <= high)
        {
            var mid = low + ((high - low) / 2);
            var order = string.CompareOrdinal(list[mid].StudyInstanceUid, studyInstanceUid);
            if (order == 0)
            {
                return mid;
            }

            if (order < 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return ~low;
    }
}
