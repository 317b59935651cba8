namespace ServerlessImaging.Cloud.Security;

/// <summary>App roles (Entra ID app roles, carried in the <c>roles</c> claim) and the policies built on them.</summary>
public static class ApiRoles
{
    /// <summary>RCP software: registrations.</summary>
    public const string Registrar = "registrar";

    /// <summary>3C coordinators: meetings.</summary>
    public const string Coordinator = "coordinator";

    /// <summary>Auditors: the audit trail.</summary>
    public const string Auditor = "auditor";

    /// <summary>Administrators: sites, and everything else.</summary>
    public const string Admin = "admin";

    /// <summary>Every role.</summary>
    public static readonly IReadOnlyList<string> All = [Registrar, Coordinator, Auditor, Admin];

    /// <summary>Name of the policy requiring <paramref name="role"/> (admin satisfies every policy).</summary>
    public static string Policy(string role) => "role:" + role;

    /// <summary>
    /// Name of the policy requiring either registrar or coordinator: a meeting's registrations (no patient data in
    /// them) are followed by the RCP software and by the 3C coordinators who prepare the meeting.
    /// </summary>
    public static readonly string RegistrarOrCoordinator = Policy(Registrar + "|" + Coordinator);
}
