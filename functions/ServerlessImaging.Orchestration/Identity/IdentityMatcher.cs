using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Orchestration.Identity;

/// <summary>Outcome of comparing our patient with a PACS patient.</summary>
public enum IdentityVerdict
{
    /// <summary>Same patient: every strong trait agrees, or the INS agrees.</summary>
    Match,

    /// <summary>Not a match, but close: exactly one strong trait differs, or the INS differs. Counted, never offered.</summary>
    NearMiss,

    /// <summary>Another patient who merely shares the query keys.</summary>
    Unrelated,
}

/// <summary>Which kind of near-miss a non-match is.</summary>
public enum NearMissKind
{
    /// <summary>Only the birth date differs.</summary>
    DifferentBirthDate,

    /// <summary>Only the sex differs.</summary>
    DifferentSex,

    /// <summary>Only the first name differs.</summary>
    DifferentFirstName,

    /// <summary>Only the family name (birth or usage) differs.</summary>
    DifferentFamilyName,

    /// <summary>Both sides carry an INS and they differ (whatever the other traits say).</summary>
    InsMismatch,
}

/// <summary>Strong traits that differ between the two sides.</summary>
[Flags]
public enum TraitDifferences
{
    /// <summary>Nothing differs.</summary>
    None = 0,

    /// <summary>Family name rule failed.</summary>
    FamilyName = 1,

    /// <summary>First name differs.</summary>
    FirstName = 2,

    /// <summary>Birth date differs or is missing on the PACS side.</summary>
    BirthDate = 4,

    /// <summary>Sex differs or is missing on the PACS side.</summary>
    Sex = 8,
}

/// <summary>Result of <see cref="IdentityMatcher.Compare"/>.</summary>
public sealed record IdentityComparison(IdentityVerdict Verdict, NearMissKind? NearMiss, TraitDifferences Differences, bool DecidedByIns);

/// <summary>
/// Strict strong-trait matching (Proxymage rule: one difference means no match), after
/// <see cref="NameNormalizer"/>. The rules, in order:
/// <list type="number">
/// <item>INS: when both sides carry one (production OID 1.2.250.1.213.1.4.8 or test OID .4.10), it decides:
/// same matricule and same OID is a match, anything else an <see cref="NearMissKind.InsMismatch"/>.
/// A test INS never equals a production INS.</item>
/// <item>Birth date and sex must be equal (a missing value on the PACS side differs).</item>
/// <item>First name must equal the PN given name, or the given and middle names joined.</item>
/// <item>Family names: if the PACS holds a Patient's Birth Name, it must equal our birth name; and the PN
/// family name must equal our birth name or, when we have one, our usage name (a PACS may file either there).
/// A PN family name that is our usage name while the PACS holds no birth name matches: the usage name was
/// given and agrees, and the PACS has no other name to contradict.</item>
/// </list>
/// Accents, case, hyphens, apostrophes and spacing are not differences: normalisation removes them
/// by design, because PACS differ in how they store them (Orthanc folds case, dcmqrscp does not).
/// </summary>
public static class IdentityMatcher
{
    /// <summary>Compares our patient with a patient as a PACS describes it.</summary>
    public static IdentityComparison Compare(PatientIdentity ours, PacsPatient theirs)
    {
        ArgumentNullException.ThrowIfNull(ours);
        ArgumentNullException.ThrowIfNull(theirs);

        var differences = TraitDifferencesOf(ours, theirs);
        if (ours.Ins is { } ourIns && InsOf(theirs).ToList() is { Count: > 0 } theirInsList)
        {
            var same = theirInsList.Exists(theirIns => SameIns(ourIns, theirIns));
            return same
                ? new IdentityComparison(IdentityVerdict.Match, null, differences, DecidedByIns: true)
                : new IdentityComparison(IdentityVerdict.NearMiss, NearMissKind.InsMismatch, differences, DecidedByIns: true);
        }

        return differences switch
        {
            TraitDifferences.None => new IdentityComparison(IdentityVerdict.Match, null, differences, false),
            TraitDifferences.BirthDate => new IdentityComparison(IdentityVerdict.NearMiss, NearMissKind.DifferentBirthDate, differences, false),
            TraitDifferences.Sex => new IdentityComparison(IdentityVerdict.NearMiss, NearMissKind.DifferentSex, differences, false),
            TraitDifferences.FirstName => new IdentityComparison(IdentityVerdict.NearMiss, NearMissKind.DifferentFirstName, differences, false),
            TraitDifferences.FamilyName => new IdentityComparison(IdentityVerdict.NearMiss, NearMissKind.DifferentFamilyName, differences, false),
            _ => new IdentityComparison(IdentityVerdict.Unrelated, null, differences, false),
        };
    }

    /// <summary>The strong traits that differ, ignoring the INS.</summary>
    public static TraitDifferences TraitDifferencesOf(PatientIdentity ours, PacsPatient theirs)
    {
        ArgumentNullException.ThrowIfNull(ours);
        ArgumentNullException.ThrowIfNull(theirs);
        var differences = TraitDifferences.None;
        if (theirs.BirthDate != ours.BirthDate)
        {
            differences |= TraitDifferences.BirthDate;
        }

        if (!string.Equals(theirs.Sex?.Trim().ToUpperInvariant(), ours.SexCode, StringComparison.Ordinal))
        {
            differences |= TraitDifferences.Sex;
        }

        var name = DicomPersonName.Parse(theirs.PatientName);
        if (!FamilyNamesAgree(ours, name, theirs.PatientBirthName))
        {
            differences |= TraitDifferences.FamilyName;
        }

        if (!FirstNameAgrees(ours, name))
        {
            differences |= TraitDifferences.FirstName;
        }

        return differences;
    }

    private static bool FamilyNamesAgree(PatientIdentity ours, DicomPersonName name, string? pacsBirthName)
    {
        var ourBirth = NameNormalizer.Normalize(ours.BirthName);
        var ourUsage = NameNormalizer.Normalize(ours.UsageName);
        var theirFamily = NameNormalizer.Normalize(name.Family);
        var theirBirth = NameNormalizer.Normalize(DicomPersonName.Parse(pacsBirthName).Family);

        if (theirBirth.Length > 0 && !string.Equals(theirBirth, ourBirth, StringComparison.Ordinal))
        {
            return false;
        }

        return theirFamily.Length > 0
            && (string.Equals(theirFamily, ourBirth, StringComparison.Ordinal)
                || (ourUsage.Length > 0 && string.Equals(theirFamily, ourUsage, StringComparison.Ordinal)));
    }

    private static bool FirstNameAgrees(PatientIdentity ours, DicomPersonName name)
    {
        var ourFirst = NameNormalizer.Normalize(ours.FirstName);
        var given = NameNormalizer.Normalize(name.Given);
        if (ourFirst.Length == 0 || given.Length == 0)
        {
            return false;
        }

        return string.Equals(ourFirst, given, StringComparison.Ordinal)
            || (name.Middle.Length > 0 && string.Equals(ourFirst, NameNormalizer.Normalize(name.Given + " " + name.Middle), StringComparison.Ordinal));
    }

    /// <summary>Every INS the PACS holds: Other Patient IDs with an INS issuer, and the Patient ID itself when its issuer is one.</summary>
    public static IEnumerable<Ins> InsOf(PacsPatient theirs)
    {
        ArgumentNullException.ThrowIfNull(theirs);
        if (Ins.IsInsOid(theirs.IssuerOfPatientId?.Trim()) && !string.IsNullOrWhiteSpace(theirs.PatientId))
        {
            yield return new Ins(theirs.PatientId.Trim(), theirs.IssuerOfPatientId!.Trim());
        }

        foreach (var other in theirs.OtherPatientIds ?? [])
        {
            if (Ins.IsInsOid(other.Issuer?.Trim()) && !string.IsNullOrWhiteSpace(other.Id))
            {
                yield return new Ins(other.Id.Trim(), other.Issuer!.Trim());
            }
        }
    }

    private static bool SameIns(Ins ours, Ins theirs) =>
        string.Equals(ours.Oid.Trim(), theirs.Oid, StringComparison.Ordinal)
        && string.Equals(ours.Matricule.Trim().ToUpperInvariant(), theirs.Matricule.ToUpperInvariant(), StringComparison.Ordinal);
}
