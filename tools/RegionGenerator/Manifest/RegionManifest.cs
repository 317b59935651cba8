using System.Text.Json.Serialization;

namespace ServerlessImaging.RegionGenerator.Manifest;

/// <summary>
/// Ground truth of one generated region: what every site PACS holds after loading, and who every patient really is.
/// Tests load it with <see cref="RegionManifestFile.LoadAsync"/> and compare what they find against it.
/// </summary>
public sealed record RegionManifest
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    public required ulong Seed { get; init; }
    public required ManifestOptions Options { get; init; }
    public required IReadOnlyList<ManifestSite> Sites { get; init; }
    public required IReadOnlyList<ManifestPatient> Patients { get; init; }
    public required IReadOnlyList<ManifestStudy> Studies { get; init; }

    public ManifestSite Site(string siteId) =>
        Sites.FirstOrDefault(s => s.Id == siteId) ?? throw new KeyNotFoundException($"Site '{siteId}' is not in this region.");

    public ManifestPatient Patient(string patientKey) =>
        Patients.FirstOrDefault(p => p.Key == patientKey) ?? throw new KeyNotFoundException($"Patient key '{patientKey}' is not in this region.");

    /// <summary>The studies a site holds (a study shared by two sites appears for both).</summary>
    public IEnumerable<ManifestStudy> StudiesAt(string siteId) => Studies.Where(s => s.Sites.Contains(siteId));

    [JsonIgnore]
    public int InstanceCount => Studies.Sum(s => s.InstanceCount * s.Sites.Count);
}

/// <summary>The resolved generation options (after the profile and overrides were applied).</summary>
public sealed record ManifestOptions
{
    public required string Profile { get; init; }
    public required int Patients { get; init; }
    public required bool NearMisses { get; init; }
    public required string StudiesPerPatient { get; init; }
    public required string SeriesPerStudy { get; init; }
    public required string InstancesPerSeries { get; init; }
    public required int Rows { get; init; }
    public required int Columns { get; init; }
    public required IReadOnlyList<string> Modalities { get; init; }
    public required IReadOnlyList<string> SiteIds { get; init; }
    /// <summary>Slices of the chest CT phantom given to the first featured person (null: none).</summary>
    public int? CtPhantomSlices { get; init; }
}

public enum SiteKind
{
    Orthanc,
    Dcmqrscp,
}

public sealed record ManifestSite
{
    public required string Id { get; init; }
    public required SiteKind Kind { get; init; }
    public required string AeTitle { get; init; }
    public required string Host { get; init; }
    public required int DicomPort { get; init; }
    /// <summary>Orthanc's REST port, null for dcmqrscp.</summary>
    public int? HttpPort { get; init; }
}

public enum PatientSex
{
    F,
    M,
}

/// <summary>How a distinct person was built to look like another one (identity matching must tell them apart).</summary>
public enum NearMissKind
{
    /// <summary>Same birth name, usage name and first name as <c>of</c>, another birth date.</summary>
    HomonymOtherBirthDate,
    /// <summary>Same names and birth date as <c>of</c>, the other sex.</summary>
    SameBirthDateOtherSex,
    /// <summary>
    /// A twin: same birth and usage names, birth date and sex as <c>of</c>, another first name. A broad query on birth
    /// date and sex returns both, so only strict matching on our side keeps the twin out.
    /// </summary>
    TwinOtherFirstName,
}

/// <summary>How a site wrote the same person's name (identity matching must still find them after normalisation).</summary>
public enum NameSpelling
{
    Canonical,
    /// <summary>Diacritics dropped (LEFÈVRE → LEFEVRE).</summary>
    AccentsDropped,
    /// <summary>Case differs (BENOÎT → Benoît), which dcmqrscp does not fold in C-FIND.</summary>
    CaseChanged,
    /// <summary>Hyphens written as spaces (MARTIN-DUPONT → MARTIN DUPONT).</summary>
    SeparatorChanged,
}

public sealed record ManifestPatient
{
    /// <summary>Region-wide key of the person (not a DICOM attribute): P0001…</summary>
    public required string Key { get; init; }
    public required string BirthName { get; init; }
    /// <summary>Usage name (nom d'usage); equals <see cref="BirthName"/> when none was given.</summary>
    public required string UsageName { get; init; }
    public required string FirstName { get; init; }
    /// <summary>DICOM DA, yyyyMMdd.</summary>
    public required string BirthDate { get; init; }
    /// <summary>Written "F"/"M" as in (0010,0040).</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<PatientSex>))]
    public required PatientSex Sex { get; init; }
    public ManifestIns? Ins { get; init; }
    public ManifestNearMiss? NearMiss { get; init; }
    /// <summary>One record per site that knows this person: local ID and the name as that site wrote it.</summary>
    public required IReadOnlyList<ManifestPatientRecord> Records { get; init; }

    [JsonIgnore]
    public bool HasDistinctUsageName => UsageName != BirthName;

    public ManifestPatientRecord RecordAt(string siteId) =>
        Records.FirstOrDefault(r => r.Site == siteId) ?? throw new KeyNotFoundException($"Patient {Key} has no record at '{siteId}'.");
}

public sealed record ManifestIns
{
    /// <summary>15 characters: 13-digit matricule and its 2-digit key.</summary>
    public required string Value { get; init; }
    public required string Issuer { get; init; }
}

public sealed record ManifestNearMiss
{
    public required NearMissKind Kind { get; init; }
    /// <summary>Key of the person this one resembles.</summary>
    public required string Of { get; init; }
}

public sealed record ManifestPatientRecord
{
    public required string Site { get; init; }
    public required string PatientId { get; init; }
    /// <summary>(0010,0010) exactly as written: usage family name ^ first name.</summary>
    public required string PatientName { get; init; }
    /// <summary>(0010,1005) as written, null when the usage name equals the birth name (attribute absent).</summary>
    public string? PatientBirthName { get; init; }
    public required string SpecificCharacterSet { get; init; }
    public required NameSpelling Spelling { get; init; }
}

public sealed record ManifestStudy
{
    public required string StudyInstanceUid { get; init; }
    public required string PatientKey { get; init; }
    /// <summary>Sites holding this study; two when the same study (same UIDs) was exchanged between sites.</summary>
    public required IReadOnlyList<string> Sites { get; init; }
    public required string StudyDate { get; init; }
    public required string StudyTime { get; init; }
    public required string AccessionNumber { get; init; }
    public required string StudyId { get; init; }
    public required string Description { get; init; }
    public required string ReferringPhysicianName { get; init; }
    /// <summary>Distinct series modalities, sorted (what ModalitiesInStudy should return).</summary>
    public required IReadOnlyList<string> Modalities { get; init; }
    public required IReadOnlyList<ManifestSeries> Series { get; init; }

    [JsonIgnore]
    public int InstanceCount => Series.Sum(s => s.Instances.Count);
}

public sealed record ManifestSeries
{
    public required string SeriesInstanceUid { get; init; }
    public required int SeriesNumber { get; init; }
    public required string Modality { get; init; }
    public required string Description { get; init; }
    public required string SopClassUid { get; init; }
    public required int Rows { get; init; }
    public required int Columns { get; init; }
    public required int BitsAllocated { get; init; }
    /// <summary>How the pixels are made: null = the generator's pattern; <c>ctPhantom</c> = the chest CT phantom.</summary>
    public string? Pixels { get; init; }
    public required IReadOnlyList<ManifestInstance> Instances { get; init; }
}

public sealed record ManifestInstance
{
    public required string SopInstanceUid { get; init; }
    public required int InstanceNumber { get; init; }
    /// <summary>The Part 10 file written for each site holding the study (patient module differs per site).</summary>
    public IReadOnlyList<ManifestFile> Files { get; init; } = [];
}

public sealed record ManifestFile
{
    public required string Site { get; init; }
    /// <summary>Relative to the manifest's directory, '/' separated.</summary>
    public required string Path { get; init; }
    public required long Bytes { get; init; }
}
