namespace ServerlessImaging.RegionGenerator.Studies;

/// <summary>SOP class and French study/series descriptions per modality.</summary>
internal static class ModalityCatalog
{
    public const string CtImageStorage = "1.2.840.10008.5.1.4.1.1.2";
    public const string MrImageStorage = "1.2.840.10008.5.1.4.1.1.4";
    public const string SecondaryCaptureImageStorage = "1.2.840.10008.5.1.4.1.1.7";

    /// <summary>CT and MR get their own image storage classes; every other modality is a Secondary Capture image.</summary>
    public static string SopClassFor(string modality) => modality switch
    {
        "CT" => CtImageStorage,
        "MR" => MrImageStorage,
        _ => SecondaryCaptureImageStorage,
    };

    public static string StudyDescriptionFor(string modality) => modality switch
    {
        "AU" => "ENREGISTREMENT AUDIO DE CONSULTATION",
        "CR" => "RADIOGRAPHIE THORAX FACE",
        "CT" => "TDM THORAX-ABDOMEN-PELVIS INJECTÉ",
        "DX" => "RADIOGRAPHIE OS LONGS",
        "ES" => "ENDOSCOPIE DIGESTIVE HAUTE",
        "MG" => "MAMMOGRAPHIE BILATÉRALE",
        "MR" => "IRM CÉRÉBRALE AVEC GADOLINIUM",
        "NM" => "SCINTIGRAPHIE OSSEUSE CORPS ENTIER",
        "OT" => "DOCUMENT NUMÉRISÉ",
        "PT" => "TEP-TDM 18F-FDG CORPS ENTIER",
        "RF" => "TRANSIT OESO-GASTRO-DUODÉNAL",
        "RT" => "DOSIMÉTRIE RADIOTHÉRAPIE",
        "SC" => "CAPTURE D'ÉCRAN RECONSTRUCTION 3D",
        "SR" => "COMPTE RENDU STRUCTURÉ",
        "US" => "ÉCHOGRAPHIE HÉPATIQUE",
        "VL" => "PHOTOGRAPHIE DERMATOLOGIQUE",
        "XA" => "ANGIOGRAPHIE COELIAQUE",
        "XC" => "PHOTOGRAPHIE PEROPÉRATOIRE",
        _ => "EXAMEN " + modality,
    };

    public static string SeriesDescriptionFor(string modality, int seriesNumber) => modality switch
    {
        "CT" => seriesNumber % 2 == 1 ? "Thorax 1.25 mm" : "Abdomen portal",
        "MR" => seriesNumber % 2 == 1 ? "T1 3D après gado" : "FLAIR axial",
        "PT" => "TEP corrigée atténuation",
        _ => modality + " série " + seriesNumber.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
