using System.Buffers.Binary;
using System.Globalization;
using ServerlessImaging.RegionGenerator.Determinism;
using ServerlessImaging.RegionGenerator.Manifest;
using ServerlessImaging.RegionGenerator.Studies;

namespace ServerlessImaging.RegionGenerator.Writing;

/// <summary>
/// A chest CT worth opening in a viewer, made here (no image from outside): axial 512×512 slices of an elliptic
/// thorax phantom in Hounsfield units — air around, subcutaneous fat, soft tissue, two lungs that grow then shrink
/// along the stack, a vertebral body (cancellous bone in a cortical ring) with its spinous process, the aorta, the
/// heart in the middle slices, the liver dome in the lowest ones, the table under the patient — plus a small seeded
/// noise. Stored values are HU + 1024 (Rescale Slope 1, Intercept −1024, 12 bits stored), shown with a soft-tissue
/// window. Pure function of its inputs, hence deterministic.
/// </summary>
public static class CtPhantom
{
    /// <summary>Marks the phantom's series in the manifest (<see cref="ManifestSeries.Pixels"/>).</summary>
    public const string PixelsKind = "ctPhantom";

    /// <summary>The in-plane size, as a CT scanner reconstructs.</summary>
    public const int Size = 512;

    /// <summary>Field of view 400 mm: 0.78125 mm pixels.</summary>
    public const double FieldOfViewMm = 400;

    /// <summary>Slice spacing and thickness, mm.</summary>
    public const double SliceMm = 5;

    /// <summary>Window of the phantom's series (soft tissue; a viewer's presets change it).</summary>
    public const int WindowCenter = 40;

    /// <inheritdoc cref="WindowCenter"/>
    public const int WindowWidth = 400;

    /// <summary>
    /// The phantom study of <paramref name="patient"/>: one CT series of <paramref name="slices"/> slices at the
    /// patient's first site (where its other studies are, so the sites a search finds do not change).
    /// </summary>
    public static ManifestStudy PlanStudy(ulong seed, ManifestPatient patient, string site, int slices)
    {
        ArgumentNullException.ThrowIfNull(patient);
        ArgumentOutOfRangeException.ThrowIfLessThan(slices, 1);
        var uids = new DeterministicUids(seed);
        var label = patient.Key + "/ct-phantom";
        var rng = new DeterministicRandom(seed ^ 0xC7_9A_17_0Bu);
        return new ManifestStudy
        {
            StudyInstanceUid = uids.For(label),
            PatientKey = patient.Key,
            Sites = [site],
            StudyDate = "20250915",
            StudyTime = "101500",
            AccessionNumber = "A" + rng.Digits(12),
            StudyId = rng.Digits(6),
            Description = "TDM THORAX SANS INJECTION",
            ReferringPhysicianName = "GARNIER^Sophie",
            Modalities = ["CT"],
            Series =
            [
                new ManifestSeries
                {
                    SeriesInstanceUid = uids.For(label + "/series/1"),
                    SeriesNumber = 1,
                    Modality = "CT",
                    Description = "Thorax 5 mm parenchyme",
                    SopClassUid = ModalityCatalog.CtImageStorage,
                    Rows = Size,
                    Columns = Size,
                    BitsAllocated = 16,
                    Pixels = PixelsKind,
                    Instances = [.. Enumerable.Range(1, slices).Select(n => new ManifestInstance
                    {
                        SopInstanceUid = uids.For(string.Create(CultureInfo.InvariantCulture, $"{label}/series/1/instance/{n}")),
                        InstanceNumber = n,
                    })],
                },
            ],
        };
    }

    /// <summary>Slice <paramref name="instanceNumber"/> (1 = top) of <paramref name="instanceCount"/>: stored values, little endian.</summary>
    public static byte[] Create(int instanceNumber, int instanceCount, int seriesSalt)
    {
        var pixels = new byte[Size * Size * 2];
        // 0 at the lung apices, 1 at the diaphragm.
        var z = instanceCount <= 1 ? 0.5 : (instanceNumber - 1) / (double)(instanceCount - 1);
        var lung = Math.Sin(Math.PI * Math.Min(1, z * 1.15)); // lungs widest a little above the middle
        var heart = Math.Max(0, Math.Sin(Math.PI * (z - 0.35) / 0.55)); // middle and lower slices
        var liver = Math.Max(0, (z - 0.75) / 0.25); // dome appears in the last quarter
        const double c = Size / 2.0;
        uint noise = (uint)seriesSalt * 2654435761u + (uint)instanceNumber * 40503u + 1;
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var hu = HounsfieldAt(x - c, y - c, lung, heart, liver);
                if (hu > -900)
                {
                    // xorshift: a few HU of quantum noise on tissue (none in the air, as scanners show it black).
                    noise ^= noise << 13;
                    noise ^= noise >> 17;
                    noise ^= noise << 5;
                    hu += (int)(noise % 21) - 10;
                }

                BinaryPrimitives.WriteUInt16LittleEndian(pixels.AsSpan((y * Size + x) * 2, 2), (ushort)Math.Clamp(hu + 1024, 0, 4095));
            }
        }

        return pixels;
    }

    // x to the patient's left (image right), y towards the back; in pixels from the centre.
    private static int HounsfieldAt(double x, double y, double lung, double heart, double liver)
    {
        static bool In(double x, double y, double cx, double cy, double rx, double ry) =>
            (x - cx) * (x - cx) / (rx * rx) + (y - cy) * (y - cy) / (ry * ry) <= 1;

        if (y > 150 && y < 162 && Math.Abs(x) < 230)
        {
            return 200; // the table's carbon top
        }

        if (!In(x, y, 0, 0, 215, 140))
        {
            return -1000;
        }

        if (!In(x, y, 0, 0, 200, 127))
        {
            return -100; // subcutaneous fat
        }

        // Spine at the back: cortical ring, cancellous body, spinal canal, spinous process.
        if (In(x, y, 0, 85, 26, 22))
        {
            return In(x, y, 0, 85, 20, 16) ? 250 : 900;
        }

        if (In(x, y, 0, 112, 9, 8))
        {
            return 15; // cerebrospinal fluid in the canal
        }

        if (In(x, y, 0, 124, 8, 16) || In(x, y, -16, 112, 14, 6) || In(x, y, 16, 112, 14, 6))
        {
            return 600;
        }

        if (In(x, y, 22, 55, 16, 16))
        {
            return 45; // descending aorta
        }

        if (heart > 0.05 && In(x, y, 25, -30, 80 * heart, 65 * heart))
        {
            return In(x, y, 30, -30, 55 * heart, 40 * heart) ? 45 : 35;
        }

        if (liver > 0 && In(x, y, -70, 0, 110 * liver, 95 * liver))
        {
            return 60;
        }

        // Lungs: parenchyma with vessels, trachea in the upper slices.
        var rx = 85 * lung;
        var ry = 100 * lung;
        if (lung > 0.1 && (In(x, y, -95, 0, rx, ry) || In(x, y, 95, 0, rx, ry)))
        {
            // Vessels cut across: small discs on a jittered 12-pixel grid, about one cell in four.
            var cellX = (int)Math.Floor((x + 256) / 12);
            var cellY = (int)Math.Floor((y + 256) / 12);
            var hash = unchecked((uint)(cellX * 73856093) ^ (uint)(cellY * 19349663));
            var vx = cellX * 12 - 256 + 3 + hash % 6;
            var vy = cellY * 12 - 256 + 3 + (hash >> 8) % 6;
            var vessel = hash % 4 == 0 && (x - vx) * (x - vx) + (y - vy) * (y - vy) <= 2.2 + (hash >> 16) % 3;
            return vessel ? 30 : -850;
        }

        if (lung < 0.9 && In(x, y, 0, -20, 11, 11))
        {
            return -1000; // trachea
        }

        return 40; // soft tissue and muscle
    }
}
