"""English grammar of the demo company's comments and tickets.

Templates use ``[a|b|c]`` for alternatives (``[|really ]`` allows nothing) and ``{slot}`` for details
filled per text: amount, month, days, weeks, hours, times, device, plan, hour, weekday, name.
Tones: 0 very negative, 1 negative, 2 neutral or mixed, 3 positive, 4 very positive.
Every clause of a theme contains one of the theme's ``MATCH`` strings (lower case), and no other
text contains the match strings of another theme (tests check both).
"""

from __future__ import annotations

MATCH: dict[str, tuple[str, ...]] = {
    "billing_errors": ("bill", "invoice", "charge", "refund"),
    "app_crashes": ("crash", "freez"),
    "connection_drops": ("drop", "outage", "disconnect", "cuts out", "cutting out", "offline", "no internet"),
    "price_increase": ("price", "expensive", "cost"),
    "login_codes": ("code",),
    "great_speed": ("speed", "fast"),
    "good_value": ("value", "worth", "good deal", "affordable"),
    "installation_delay": ("technician", "install", "router", "engineer", "deliver"),
    "easy_setup": ("setup", "set up", "plug and play", "up and running"),
    "checkout_failure": ("checkout", "check out", "payment page"),
    "easy_checkout": ("easy", "simple", "smooth", "painless"),
    "slow_support": ("wait", "hold", "took", "chase", "slow"),
    "helpful_staff": ("helpful", "friendly", "agent", "staff", "sorted"),
}

CLAUSES: dict[str, tuple[str, ...]] = {
    "billing_errors": (
        "I was [charged|billed] twice [for {month}|this month|on my last bill|for the same month]",
        "my [last|latest|{month}] [bill|invoice] was [wrong|incorrect|a total mess|about €{amount} too high]",
        "[you|they|Brightwave] overcharged me [by €{amount}|again|for the third month running|without telling me]",
        "[I'm still waiting for|I never got|nobody processed] the refund [I was promised|for the double payment"
        "|of €{amount}|from {month}]",
        "the [bill|invoice] [keeps changing|doesn't match my plan|shows extras I never ordered"
        "|has a mystery fee on it]",
        "there's [a billing error|a mistake on my invoice|a charge I don't recognise] [every other month|again"
        "|that nobody can explain]",
        "I got [charged|billed] for [a box|equipment|a TV package|a sports pass] I [returned|never ordered"
        "|cancelled] [weeks ago|in {month}|ages ago]",
        "the direct debit [went out twice|took €{amount} too much] and [I'm still waiting for a refund"
        "|the invoice says otherwise]",
        "billing is [a joke|a nightmare|all over the place|chaos|completely broken]",
        "[three|two|several] [months|bills] in a row with [wrong charges|errors on the invoice]",
        "[a|another] [random|surprise|hidden] charge of €{amount} [appeared|showed up] on my [bill|account]",
    ),
    "app_crashes": (
        "the app [keeps crashing|crashes|crashes constantly|keeps freezing and crashing] [when I open the TV guide"
        "|every time I try to stream|on my {device}|since the last update|halfway through a film]",
        "the [Brightwave|TV|streaming] app [freezes|just freezes|freezes and closes] [on startup|on my {device}"
        "|every evening|during live sport]",
        "[I can't|I cannot|we can't] watch anything because the app [crashes|keeps crashing] [after a few minutes"
        "|on the {device}|every single time]",
        "[yet another|another|one more] app crash [tonight|during the match|this morning|in the middle of a film]",
        "the latest update made the app [crash|freeze] [all the time|every few minutes|on my {device}]",
        "[streaming|the player|live TV] [freezes|crashes] [constantly|every {times} minutes|at the worst moments]",
        "the app crashed [{times} times|twice|three times] [last night|during one episode|this week]",
        "[my kids can't|nobody at home can] use the app [because it crashes|without it freezing] [on the {device}|]",
    ),
    "connection_drops": (
        "the [internet|wifi|connection|broadband] [keeps dropping|drops|drops out|keeps dropping out] [every evening"
        "|{times} times a day|around {hour}|during video calls|for no reason]",
        "[another|yet another|a|the usual] [two-day|{days}-day|full-day|weekend] outage [last week|this month"
        "|in my area|with no warning]",
        "[we were|I was] [offline|left with no internet] for [{days} days|most of the weekend|a whole day"
        "|{hours} hours]",
        "the [modem|wifi box] [keeps disconnecting|disconnects every night|randomly disconnects]"
        " [and I have to restart it||while I'm working]",
        "[my|the] connection [cuts out|keeps cutting out] [when I'm working from home|in the evenings"
        "|during video calls|every {times} minutes]",
        "[constant|frequent|daily|random] [drops|dropouts|disconnections] [all week|since {weekday}|for weeks now]",
        "the fibre [drops|dropped] [{times} times|again] [today|yesterday|during my meeting]",
        "[there was|we had] an outage [on {weekday}|for {hours} hours|again] and [nobody told us|no explanation]",
    ),
    "price_increase": (
        "the price [went up|increased|jumped] [again|by €{amount} a month|without any warning|for no reason]",
        "[way|far|much|simply] too expensive [for what you get|compared to other providers|now|for the speed]",
        "[another|a] price [increase|hike|rise] [this year|in {month}] [and nothing got better|for the same service"
        "|with no explanation]",
        "the monthly cost is now [€{amount} more|much higher] than [when I joined|what new customers pay]",
        "[I can't|hard to] justify the cost [any more|anymore|for {plan}]",
        "prices keep [|on ]going up [every year|every few months|while the service stays the same]",
        "[it's|{plan} is] [getting|become] [really|so|too] expensive",
    ),
    "login_codes": (
        "the [login|verification|security|one-time|SMS] code [never arrives|never arrived|doesn't arrive"
        "|takes ages to arrive|shows up after it has expired]",
        "[I can't|I couldn't|we can't] log in because [the|my] [verification|login|SMS] code [never came"
        "|didn't come through|never showed up]",
        "[stuck|locked out] [at the code screen|waiting for a login code|on the verification code step] "
        "[for {days} days|since {weekday}|all week]",
        "[no|still no] [code|SMS code|verification code] [after {times} tries|after requesting it {times} times"
        "|on my phone]",
        "the code [to log in|for the app|for my account] [just doesn't arrive|never comes|arrives way too late]",
        "[requested|asked for] [a new code|another code] [{times} times|again and again] and [nothing|still nothing]",
    ),
    "great_speed": (
        "the speed is [great|brilliant|exactly as advertised|amazing|rock solid]",
        "[super|really|very|seriously] fast [internet|broadband|connection] [even in the evenings|all the time"
        "|in every room]",
        "[streaming in 4K|gaming|working from home] [works perfectly|is smooth] thanks to the speed",
        "[download|upload] speeds are [excellent|better than promised|consistently high]",
        "[fast|lightning fast|blazing fast] [wifi|connection] [and no buffering|with zero lag|on {plan}]",
    ),
    "good_value": (
        "[great|good|excellent|fair] value for [money|what you get|the speed]",
        "[well|totally|definitely] worth [the money|it|every euro]",
        "[a good deal|really affordable] [compared to others|for {plan}|for the speed]",
        "[{plan} is|the plan is] [good value|worth every cent]",
    ),
    "installation_delay": (
        "the technician [never showed up|didn't turn up|cancelled twice|came {days} days late]",
        "[installation|the install|getting installed] took [{days} days|{weeks} weeks|forever] [longer than promised"
        "|to get booked|]",
        "[my|the] router [arrived|was delivered] [{days} days late|a week late|to the wrong address]",
        "[I waited|I stayed] [in all day|home all day|{days} days] for [an engineer|the technician|the installer]"
        " [who never came|and nobody came|]",
        "the delivery of the router was [delayed|rescheduled {times} times|pushed back again and again]",
        "[{days} days|{weeks} weeks] [after signing up|after ordering] and [still no engineer|still no router"
        "|no technician yet]",
    ),
    "easy_setup": (
        "setup was [a breeze|really easy|quick and painless|straightforward]",
        "[I plugged it in and|we plugged the box in and|] [we were|I was] up and running [in minutes"
        "|within the hour|the same day]",
        "everything was set up [in no time|in under an hour|perfectly]",
        "[truly|genuinely|basically] plug and play",
    ),
    "checkout_failure": (
        "the checkout [kept failing|broke|timed out|gave me an error] [at the last step|{times} times"
        "|when I entered my card|every time]",
        "the payment page [hung|kept spinning|timed out|threw an error 500] [on the website|twice|]",
        "[I couldn't|I could not|I was unable to] [complete|finish] the checkout [online|on the website"
        "|after {times} attempts]",
        "[I tried to|I wanted to] [sign up|order] online but the checkout [wouldn't go through|was broken"
        "|errored out]",
        "[errors|an error] on the payment page [every time|again|at the final step]",
        "the online checkout [just doesn't work|is broken|failed {times} times]",
    ),
    "easy_checkout": (
        "[signing up|ordering|the order] was [easy|quick and easy|smooth|simple]",
        "[really|very|super] [easy|simple] to [order|sign up] online",
        "[painless|smooth] sign-up[| in a few minutes]",
    ),
    "slow_support": (
        "[I waited|I had to wait|I've been waiting] [{hours} hours|{days} days|ages] for [a reply"
        "|someone to get back to me|an answer]",
        "[on hold|kept on hold|left on hold] for [{times}0 minutes|over an hour|ages]",
        "it took [{days} days|over a week|far too long] to [fix|sort out|resolve] [a simple problem|this"
        "|the issue]",
        "I had to chase [them|you|support] [{times} times|again and again|for days]",
        "[support is|replies are|customer service is] [painfully|so|incredibly] slow",
    ),
    "helpful_staff": (
        "the [agent|advisor|support agent|chat agent] was [really helpful|super friendly|patient and helpful"
        "|incredibly helpful|friendly and quick]",
        "{name} sorted it [out|] [in minutes|on the first call|straight away]",
        "[great|brilliant|excellent] [support staff|staff in the shop|help from the agent]",
        "[the person on the phone|the lady on the chat|the guy on the phone] was [so helpful|very friendly]",
    ),
}

OPENERS: dict[int, tuple[str, ...]] = {
    0: ("Absolutely furious.", "Where do I even start.", "Honestly,", "I'm fed up.", "Terrible.",
        "Worst experience ever.", "Unbelievable.", "Seriously,", "This is a joke.", "I've had enough.",
        "Shocking.", "Not happy at all.", "Disgraceful service."),
    1: ("Disappointed.", "To be honest,", "Not great lately.", "I wouldn't say it's terrible, but",
        "Meh.", "Not sure if it's just me, but", "Hmm.", "Frustrating.", "A bit annoyed.", "Sadly,",
        "Not impressed.", "I expected more."),
    2: ("It's okay overall.", "Mostly fine.", "Hard to say.", "Mixed feelings.", "Overall ok,",
        "So-so.", "Fair enough,", "Not bad, not great.", "I guess", "On the whole,"),
    3: ("Really happy so far.", "Good experience overall.", "Pretty pleased.", "No complaints really,",
        "Happy customer.", "Good stuff.", "Very satisfied.", "So far so good:", "All good,"),
    4: ("Absolutely love it!", "Brilliant!", "Best provider I've had.", "Fantastic.", "Wow.", "10/10.",
        "Couldn't be happier.", "Top notch!", "Amazing service!"),
}

GENERIC: dict[int, tuple[str, ...]] = {
    0: ("worst provider I've ever had", "absolutely useless", "never again", "shocking service from start to"
        " finish", "I'm leaving as soon as my contract ends", "nobody seems to care about customers",
        "stay well away", "the whole experience has been awful"),
    1: ("not what I expected", "could be a lot better", "it's gone downhill", "disappointing overall",
        "the service isn't what it used to be", "not impressed so far", "too many little problems",
        "I'm thinking about switching"),
    2: ("it's fine", "does the job", "nothing special", "okay I guess", "no strong feelings either way",
        "average", "it works most of the time", "about what I expected"),
    3: ("happy with it", "works well", "no complaints", "pretty good", "good service", "does what it says",
        "reliable so far", "I'd recommend it"),
    4: ("love it", "brilliant service", "best provider I've had", "would recommend to anyone",
        "couldn't be happier", "excellent all round", "everything just works", "five stars"),
}

SHORT: dict[int, tuple[str, ...]] = {
    0: ("Awful", "Terrible service", "Useless!!", "Rubbish", "Never again", "Worst company ever", "Joke",
        "😡", "Horrible"),
    1: ("meh", "Not great", "Could be better", "Disappointing", "Meh.", "Not good enough", "nope", "Poor"),
    2: ("ok", "Fine.", "Average", "It's ok", "fine", "Okay", "so-so", "n/a", "-", "Nothing to add"),
    3: ("Good", "Good service", "Happy", "All good", "Works well", "Nice", "good", "👍"),
    4: ("Great!", "Love it", "Excellent", "Brilliant", "Perfect", "Amazing!", "10/10", "Great service!!",
        "⭐⭐⭐⭐⭐"),
}

CLOSERS: dict[int, tuple[str, ...]] = {
    0: ("Sort it out!", "Not good enough.", "Seriously considering leaving.", "I expect better.",
        "Absolutely ridiculous.", "Fix it!!", "Done with you.", "Thinking of switching.",
        "Will be cancelling."),
    1: ("Please fix this.", "Very frustrating.", "Not ideal.", "Hope it improves.", "Do better.",
        "Not acceptable really."),
    2: ("That's all.", "Could be better.", "We'll see.", "Otherwise fine.", "Just saying."),
    3: ("Thanks!", "Would recommend.", "Keep it up.", "Happy customer.", "Cheers."),
    4: ("Keep it up!", "Thanks so much!", "Great job team!", "Would recommend to everyone!",
        "Can't fault it."),
}

#: Generic clauses that carry the overall feeling in a mixed comment ("..., but otherwise I'm happy").
#: Neutral context sentences (no theme words) that make comments longer and more varied.
CONTEXT = ("[I've|We've] been [a customer|with you] for [{times} years|a few years|about a year|only a few months]",
           "we have {plan} at home", "[we are|I'm] [a family of {times}|working from home|a heavy streamer"
           "|a student|retired]", "[I mostly use it for|we use it mainly for] [streaming|gaming|work|the kids"
           "|football]", "[I switched|we moved] to you [last year|in {month}|from another provider]",
           "[this is|that's] [my|our] honest opinion", "[I answered|I'm filling in] this survey on my {device}")

MIXED_POSITIVE = ("otherwise I'm happy", "overall it's good", "the rest is fine", "apart from that it's great",
                  "everything else works well", "I still like the service")
MIXED_NEGATIVE = ("overall I'm not impressed", "the rest isn't great either", "that doesn't make up for the rest",
                  "it's not enough to keep me", "the overall service is poor")

AND_CONNECTORS = (", and ", " and ", ". Also, ", ". On top of that, ", "; plus ", " — and ",
                  ". And ", ", not to mention that ")
BUT_CONNECTORS = (", but ", " but ", ". However, ", ", although ", ". That said, ", " — but ", ", though ")

EMOJI: dict[int, tuple[str, ...]] = {
    0: ("😡", "🤬", "😤", "👎", "😠"),
    1: ("🙄", "😒", "😕", "👎"),
    2: ("🤷", "😐", "🙂"),
    3: ("🙂", "👍", "😊"),
    4: ("😍", "🙌", "👏", "❤️", "🚀"),
}

SLOTS: dict[str, tuple[str, ...]] = {
    "month": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December"),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "device": ("iPhone", "Android phone", "Samsung TV", "iPad", "laptop", "Fire Stick", "LG TV", "tablet"),
    "hour": ("7pm", "8pm", "9pm", "10pm", "6 in the evening", "lunchtime"),
    "name": ("Sarah", "Tom", "Aoife", "Lukas", "Maria", "Jan", "Chloé", "Pedro", "the agent", "your colleague"),
}

# --------------------------------------------------------------------------------------------------
# Tickets
# --------------------------------------------------------------------------------------------------

SUBJECTS: dict[str, tuple[str, ...]] = {
    "billing": ("[Billing error|Wrong bill|Incorrect invoice|Overcharged|Double charge][| on my account"
                "| for {month}| - please fix]", "Refund [request|not received|still missing]",
                "[Question about|Problem with] my [{month} bill|last invoice]"),
    "pricing": ("Price [increase|rise] [question|complaint]", "Why did my [price|monthly cost] go up?",
                "[Too expensive|Cost of my plan]"),
    "app": ("App [crashing|keeps crashing|freezes][| on {device}]", "[Problem|Issue] with the TV app",
            "TV app [crash|not working]"),
    "connectivity": ("[Internet|Broadband|Wifi] [down|dropping|keeps dropping|not working][| since {weekday}"
                     "| again]", "[Outage|Connection problem] [in my area|at home]", "No internet[|!!]"),
    "installation": ("[Technician|Engineer] [no-show|didn't arrive]", "[Router|Equipment] delivery [delayed"
                     "|missing|late]", "Installation [appointment|date] [problem|rescheduled]"),
    "login": ("[Login|Verification|SMS] code not [arriving|received]", "Can't log in - [no code|code never"
              " arrives]", "No [SMS|verification] code"),
    "checkout": ("[Checkout|Payment page] [error|not working|failing]", "Can't [complete|finish] my order"
                 " online", "Online sign-up [failed|error]"),
    "account": ("[Update|Change] my [email address|contact details|bank details]", "Account [access"
                "|question]", "[Change of|New] phone number"),
    "plan_change": ("[Upgrade|Change|Downgrade] my plan", "Switch to {plan}", "Plan change request"),
    "moving": ("Moving house[| next month| on {weekday}| soon]", "[Transfer|Move] my [service|broadband] to a"
               " new address"),
    "cancellation": ("[Cancel|Cancellation of] my [subscription|contract|service]", "I want to cancel",
                     "Cancellation request"),
    "general_question": ("Question about [my contract|the TV package|my plan|shop opening hours]",
                         "[Quick|General] question", "Information request"),
}

TOPIC_CLAUSES: dict[str, tuple[str, ...]] = {
    "account": ("I need to [update|change] my [email address|phone number|bank details]",
                "I [can't|cannot] find where to change my [contact details|address details] in my account",
                "please [add my partner to|remove my ex-partner from|add a second user to] the account"),
    "plan_change": ("I'd like to [upgrade|move|switch] to {plan} [from next month|as soon as possible|]",
                    "[can I|is it possible to] [downgrade|change] my plan [without a fee|before the contract"
                    " ends]"),
    "moving": ("I'm moving [house|to a new flat] [next month|on {weekday}|in {weeks} weeks] and need the"
               " service at the new address", "[we are|I am] relocating and want to [keep|transfer] my"
               " [broadband|service]"),
    "general_question": ("[what|which] [channels|sports] are included in the TV package",
                         "[can you tell me|I'd like to know] when my contract [ends|renews]",
                         "[what are|when are] the opening hours of the shop [in town|near me]"),
}

CANCEL_LEADS = ("I'd like to cancel my [subscription|contract|service][| please]",
                "please cancel my [subscription|contract] [at the end of the month|as soon as possible]",
                "I want to end my contract")
CANCEL_REASONS = ("I'm moving abroad", "I found a better deal elsewhere", "I don't use it enough",
                  "I'm moving in with my partner who already has a provider", "money is tight at the moment")
BECAUSE = (" because ", " as ", ". The reason: ", " - ")

GREETINGS = ("Hi,", "Hello,", "Hi there,", "Good morning,", "Dear Brightwave team,", "Hey,", "", "")
REQUESTS = ("[Can you|Could you] [look into this|sort this out|fix this][| asap| today]?",
            "Please [look into this|sort this out|fix this][| asap| today| as soon as possible].",
            "I need this [fixed|resolved] [today|this week|urgently].", "Please call me back.",
            "What are you going to do about it?", "Please advise.", "Thanks in advance.")
SIGNOFFS = ("Thanks", "Regards", "Cheers", "Thank you", "Kind regards", "", "")
SUBJECT_PREFIXES = ("URGENT: ", "Re: ", "FW: ", "")
