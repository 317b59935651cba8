using System.Globalization;
using ServerlessImaging.RegionGenerator.Manifest;

namespace ServerlessImaging.LocalRun.Scenario;

/// <summary>
/// The patient the run registers and the meeting filter it uses, both chosen from the manifest so the expected
/// result (candidates, filtered-out studies) is known before the API is asked.
/// </summary>
internal sealed record ScenarioPatient(ManifestPatient Patient, IReadOnlyList<ManifestStudy> Studies, IReadOnlyList<string> FilterModalities)
{
    /// <summary>A patient whose usage name differs from the birth name, preferring one a near-miss person shadows, then the most sites.</summary>
    public static ScenarioPatient Choose(RegionManifest manifest)
    {
        var patient = manifest.Patients
            .Where(p => p.HasDistinctUsageName && p.NearMiss is null && manifest.Studies.Any(s => s.PatientKey == p.Key))
            .OrderByDescending(p => manifest.Patients.Any(n => n.NearMiss?.Of == p.Key))
            .ThenByDescending(p => manifest.Studies.Where(s => s.PatientKey == p.Key).SelectMany(s => s.Sites).Distinct().Count())
            .ThenBy(p => p.Key, StringComparer.Ordinal)
            .FirstOrDefault() ?? throw new LocalRunException("the region has no patient whose usage name differs from the birth name (try another --seed)");
        var studies = manifest.Studies.Where(s => s.PatientKey == patient.Key).ToList();

        // Filter out the last study by modality when its modalities are disjoint from the others'; else no modality filter.
        IReadOnlyList<string> modalities = [];
        if (studies.Count >= 2)
        {
            var kept = studies.Take(studies.Count - 1).SelectMany(s => s.Modalities).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            if (!studies[^1].Modalities.Intersect(kept, StringComparer.Ordinal).Any())
            {
                modalities = kept;
            }
        }

        return new ScenarioPatient(patient, studies, modalities);
    }

    /// <summary>The studies the meeting filter lets through: the expected candidates.</summary>
    public IReadOnlyList<ManifestStudy> ExpectedCandidates =>
        FilterModalities.Count == 0 ? Studies : [.. Studies.Where(s => s.Modalities.Intersect(FilterModalities, StringComparer.Ordinal).Any())];

    public DateOnly BirthDate => DateOnly.ParseExact(Patient.BirthDate, "yyyyMMdd", CultureInfo.InvariantCulture);

    public string Sex => Patient.Sex == PatientSex.F ? "Female" : "Male";

    /// <summary>Keys of the near-miss persons of the region (homonyms, other sex…).</summary>
    public static IReadOnlyList<string> NearMissKeys(RegionManifest manifest) => [.. manifest.Patients.Where(p => p.NearMiss is not null).Select(p => p.Key)];

    /// <summary>The patient's studies and every near-miss person's: what the self-check looks at.</summary>
    public IReadOnlyList<ManifestStudy> AllRelevantStudies(RegionManifest manifest)
    {
        var nearMisses = NearMissKeys(manifest);
        return [.. manifest.Studies.Where(s => s.PatientKey == Patient.Key || nearMisses.Contains(s.PatientKey))];
    }

    /// <summary>Replaces the patient's names by the pseudonymous key (for what is shown on the console).</summary>
    public string Redact(string text)
    {
        foreach (var name in new[] { Patient.BirthName, Patient.UsageName, Patient.FirstName }
            .Concat(Patient.UsageName.Split('-', ' ', '\''))
            .Where(n => n.Length > 2)
            .Distinct()
            .OrderByDescending(n => n.Length))
        {
            text = text.Replace(name, "«" + Patient.Key + "»", StringComparison.OrdinalIgnoreCase);
        }

        return text.Replace(BirthDate.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture), "«date»", StringComparison.Ordinal);
    }
}
