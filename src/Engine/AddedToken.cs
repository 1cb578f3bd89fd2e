namespace LeadEngine.Engine;

/// <summary>One added token of a tokenizer: its id, its text and whether the file marks it special.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Content">Its text, e.g. <c>&lt;|im_start|&gt;</c>.</param>
/// <param name="Special">Whether the file marks it special.</param>
public sealed record AddedToken(int Id, string Content, bool Special);
